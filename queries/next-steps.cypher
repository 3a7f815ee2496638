// question: What was announced or planned next? Events still to come (status planned or
//   announced) that the article does not place in the background, with when they are due and
//   the statement or order that announced them and who made it.
// columns: item kind status date relative_time_en announced_in announced_by
// the kinds of event: kg: classes under kg:Event (kg:HappenedEvent is derived from the status
// by inference: a view, not a kind)
// from the class down (its id is indexed), not from every node up
MATCH (:Resource {id: 'kg:Event'})<-[:rdfs__subClassOf*0..]-(kind)
WHERE kind.id STARTS WITH 'kg:' AND kind.id <> 'kg:HappenedEvent'
WITH DISTINCT kind
// the background phase found once: an inline {id: …} in the NOT pattern is checked per item
MATCH (background:Resource {id: 'kg:background'})
MATCH (item)-[:rdf__type]->(kind), (item)-[:status]->(status)
WHERE status.id IN ['kg:planned', 'kg:announced']
  AND NOT (item)-[:storyPhase]->(background)
// the most specific kind: no other type of the item is narrower
OPTIONAL MATCH (item)-[:rdf__type]->(narrower)-[:rdfs__subClassOf*1..]->(kind)
  WHERE narrower <> kind
WITH item, status, kind, count(narrower) AS narrower_kinds
WHERE narrower_kinds = 0
// (the first by IRI, should there be several)
WITH item, status, min(kind.iri) AS kind_iri
MATCH (kind:Resource {iri: kind_iri})
OPTIONAL MATCH (announced_in)-[:announces]->(item)
OPTIONAL MATCH (announced_in)-[:speaker|performedBy]->(announced_by)
RETURN DISTINCT item {.iri, .label_en, .label_zh} AS item,
                kind {.iri, .label_en, .label_zh} AS kind,
                status {.iri, .label_en, .label_zh} AS status, item.date AS date,
       item.relativeTime_en AS relative_time_en,
       announced_in {.iri, .label_en, .label_zh} AS announced_in,
       announced_by {.iri, .label_en, .label_zh} AS announced_by,
       item.firstQuoteStart AS pos
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY pos IS NOT NULL, pos, item.iri, announced_in.iri IS NOT NULL, announced_in.iri,
         announced_by.iri IS NOT NULL, announced_by.iri
