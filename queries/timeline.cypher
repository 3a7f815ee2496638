// question: Every dated event in order, with the precision of its date and whether its year (or
//   month) was inferred rather than printed. Events on the same date follow the story (run-up,
//   talks, aftermath), then the order the article mentions them in.
// columns: date precision event kind year_inferred month_inferred date_as_written phase status
// the kinds of event first (a few classes): kg: classes under kg:Event (kg:HappenedEvent is
// derived from the status by inference: a view, not a kind)
// from the class down (its id is indexed), not from every node up
MATCH (:Resource {id: 'kg:Event'})<-[:rdfs__subClassOf*0..]-(kind)
WHERE kind.id STARTS WITH 'kg:' AND kind.id <> 'kg:HappenedEvent'
WITH DISTINCT kind
MATCH (event)-[:rdf__type]->(kind)
WHERE event.date IS NOT NULL
// the most specific kind: no other type of the event is narrower
OPTIONAL MATCH (event)-[:rdf__type]->(narrower)-[:rdfs__subClassOf*1..]->(kind)
  WHERE narrower <> kind
WITH event, kind, count(narrower) AS narrower_kinds
WHERE narrower_kinds = 0
// (the first by IRI, should there be several)
WITH event, min(kind.iri) AS kind_iri
MATCH (kind:Resource {iri: kind_iri})
OPTIONAL MATCH (event)-[:datePrecision]->(precision)
OPTIONAL MATCH (event)-[:storyPhase]->(phase)
OPTIONAL MATCH (event)-[:status]->(status)
RETURN DISTINCT event.date AS date, precision {.iri, .label_en, .label_zh} AS precision,
                event {.iri, .label_en, .label_zh} AS event,
                kind {.iri, .label_en, .label_zh} AS kind,
       coalesce(event.yearInferred, false) AS year_inferred,
       coalesce(event.monthInferred, false) AS month_inferred,
       event.dateAsWritten_zh AS date_as_written, phase {.iri, .label_en, .label_zh} AS phase,
       status {.iri, .label_en, .label_zh} AS status,
       CASE phase.id WHEN 'kg:background' THEN 1 WHEN 'kg:runUp' THEN 2
                     WHEN 'kg:duringTalks' THEN 3 WHEN 'kg:aftermath' THEN 4
                     WHEN 'kg:outlook' THEN 5 ELSE 6 END AS phase_rank,
       event.firstQuoteStart AS pos
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY date, phase_rank, pos IS NOT NULL, pos, event.iri
