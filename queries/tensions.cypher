// question: Where does the article say two things that do not sit together? One row per
//   tension, with what it is about, both passages in the order the article gives them, and what
//   differs; the graph records both and resolves neither.
// columns: tension about quote_1 quote_2 explanation_en
// the first and the last passage quoted for each tension, by where they start
MATCH (tension:Tension)-[:hasEvidence]->(e:Annotation)
WITH tension, min(e.start) AS start_1, max(e.start) AS start_2
// two MATCH clauses, not one: a tension quoted once is its own first and last passage (one
// pattern may not use the same relationship twice)
MATCH (tension)-[:hasEvidence]->(e1:Annotation {start: start_1})
MATCH (tension)-[:hasEvidence]->(e2:Annotation {start: start_2})
MATCH (tension)-[:tensionAbout]->(about)
RETURN tension {.iri, .label_en, .label_zh} AS tension, about {.iri, .label_en, .label_zh} AS about,
       e1.quote AS quote_1, e2.quote AS quote_2,
       tension.explanation_en AS explanation_en, start_1, about.firstQuoteStart AS about_pos
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY start_1, tension.iri, about_pos IS NOT NULL, about_pos, about.iri
