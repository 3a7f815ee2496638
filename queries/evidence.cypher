// question: What are the quotes and character offsets that support a given node? One row per
//   piece of evidence the build anchored in a source text (offsets in Unicode code points, end
//   exclusive), in text order.
// param: node IRI  the node whose evidence is wanted (e.g. kgr:talks-2026-02-06)
// columns: quote start end article
MATCH (:Resource {iri: $node})-[:hasEvidence]->(a:Annotation)
OPTIONAL MATCH (a)-[:oa__hasTarget]->()-[:oa__hasSource]->(article)
RETURN DISTINCT a.quote AS quote, a.start AS start, a.end AS end,
                article {.iri, .label_en, .label_zh} AS article
ORDER BY start, end, article.iri IS NOT NULL, article.iri
