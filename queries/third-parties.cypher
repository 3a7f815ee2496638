// question: Which third parties shaped the talks, and how? Actors other than the sides (the
//   states that take part in talks on a side or send a delegation) and other than anyone
//   affiliated with a side, linked to talks or to an event that led to them, was part of them or
//   was superseded by them: by a role in them (mediator, observer …), by carrying out such an
//   event (mediation, lobbying …), or as the country where talks were held or planned ("place"
//   is the venue).
// columns: actor how event place
// the sides: states that take part in talks on a side or send a delegation (a few nodes,
// found once)
// (states by the range of both properties: starting from them is 4× faster than from every node)
MATCH (side:State)<-[:onSide|delegationOf]-()
WITH collect(DISTINCT side) AS sides
// events that shaped the talks: the talks themselves, their parts, the plans they replaced,
// and whatever led to any of these
MATCH (event)-[:ledTo|partOf|supersededBy*0..]->(:Talks)
WITH DISTINCT sides, event
CALL {
  // a role in the event
  WITH event
  MATCH (event)-[:hasParticipation]->(participation)-[:participant]->(actor),
        (participation)-[:role]->(how)
  RETURN actor, how, null AS place
  UNION
  // carrying it out
  WITH event
  MATCH (event)-[:performedBy]->(actor), (how:Resource {id: 'kg:performedBy'})
  RETURN actor, how, null AS place
  UNION
  // the country of the venue of talks
  WITH event
  MATCH (event:Talks)-[:location]->(place)-[:locatedIn*0..]->(actor),
        (how:Resource {id: 'kg:location'})
  RETURN actor, how, place
}
WITH DISTINCT sides, actor, how, event, place
WHERE actor:Actor
// not a side, nor one of a side's bodies, delegations or people
OPTIONAL MATCH (actor)-[:affiliatedWith*0..]->(affiliation)
OPTIONAL MATCH (actor)-[:delegationOf]->(represented)
WITH sides, actor, how, event, place, collect(affiliation) + collect(represented) AS belongs_to
WHERE none(x IN belongs_to WHERE x IN sides)
RETURN actor {.iri, .label_en, .label_zh} AS actor, how {.iri, .label_en, .label_zh} AS how,
       event {.iri, .label_en, .label_zh} AS event, place {.iri, .label_en, .label_zh} AS place
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY actor.iri, how.iri, event.iri, place.iri IS NOT NULL, place.iri
