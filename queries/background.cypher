// question: Which earlier events does the article refer to? Events it places in the background
//   of the talks that took place (not the ones still to come), dated ones first in date order,
//   then undated ones as the article mentions them; "actor" is who carried out or took part in
//   the event, "target" what it was directed at.
// columns: event kind date precision relative_time_en actor target
// the kinds of event: kg: classes under kg:Event (kg:HappenedEvent is derived from the status
// by inference: a view, not a kind)
// from the class down (its id is indexed), not from every node up
MATCH (:Resource {id: 'kg:Event'})<-[:rdfs__subClassOf*0..]-(kind)
WHERE kind.id STARTS WITH 'kg:' AND kind.id <> 'kg:HappenedEvent'
WITH DISTINCT kind
MATCH (event)-[:rdf__type]->(kind),
      (event)-[:storyPhase]->(:Resource {id: 'kg:background'})
// not the ones still to come: no status other than happened
OPTIONAL MATCH (event)-[:status]->(status)
  WHERE status.id <> 'kg:happened'
OPTIONAL MATCH (event)-[:rdf__type]->(narrower)-[:rdfs__subClassOf*1..]->(kind)
  WHERE narrower <> kind
WITH event, kind, count(status) AS other_status, count(narrower) AS narrower_kinds
WHERE other_status = 0 AND narrower_kinds = 0
// the most specific kind (the first by IRI, should there be several)
WITH event, min(kind.iri) AS kind_iri
MATCH (kind:Resource {iri: kind_iri})
OPTIONAL MATCH (event)-[:datePrecision]->(precision)
OPTIONAL MATCH (event)-[:performedBy|speaker|hasParticipant]->(actor)
OPTIONAL MATCH (event)-[:target]->(target)
RETURN DISTINCT event {.iri, .label_en, .label_zh} AS event,
                kind {.iri, .label_en, .label_zh} AS kind, event.date AS date,
                precision {.iri, .label_en, .label_zh} AS precision,
       event.relativeTime_en AS relative_time_en, actor {.iri, .label_en, .label_zh} AS actor,
       target {.iri, .label_en, .label_zh} AS target,
       event.firstQuoteStart AS pos
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY date IS NULL, date, pos IS NOT NULL, pos, event.iri, actor.iri IS NOT NULL, actor.iri,
         target.iri IS NOT NULL, target.iri
