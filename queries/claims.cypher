// question: The article's own analysis: the claims about each side's motives (and its
//   assessments, context and prognosis), attributed to the source, in the order the article makes
//   them. One row per claim and side it is about ("side" is the state of an actor the claim is
//   about; none for a claim about no state), with its words in Chinese and an English rendering.
// columns: claim kind side source publisher quote_zh english
MATCH (claim:AnalysisClaim)
OPTIONAL MATCH (claim)-[:claimKind]->(kind)
OPTIONAL MATCH (claim)-[:attributedTo]->(source)
OPTIONAL MATCH (source)-[:publisher]->(publisher)
// the states of the actors the claim is about
OPTIONAL MATCH (claim)-[:aboutActor]->()-[:affiliatedWith*0..]->(side:State)
RETURN DISTINCT claim {.iri, .label_en, .label_zh} AS claim,
                kind {.iri, .label_en, .label_zh} AS kind,
                side {.iri, .label_en, .label_zh} AS side,
                source {.iri, .label_en, .label_zh} AS source,
                publisher {.iri, .label_en, .label_zh} AS publisher,
                claim.statedText_zh AS quote_zh,
       claim.englishRendering_en AS english, claim.firstQuoteStart AS pos
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY pos IS NOT NULL, pos, claim.iri, side.iri IS NOT NULL, side.iri
