// question: What is the shortest chain of relations from one actor (or any node) to another,
//   following the relations as stated (FalkorDB finds directed shortest paths only: swap the
//   two to look the other way)? Only relations between actors, events, stances and
//   statements are followed, not evidence or ontology links. One row per step.
// param: from IRI  where the chain starts (e.g. kgr:united-states)
// param: to IRI  where it ends (e.g. kgr:iran)
// columns: step node relation next
MATCH (a:Resource {iri: $from}), (b:Resource {iri: $to})
// FalkorDB takes shortestPath only in WITH or RETURN; Neo4j only in MATCH: there, write
// MATCH chain = shortestPath((a)-[…*..8]->(b))
WITH shortestPath((a)-[:affiliatedWith|heldBy|addressedTo|hasParticipation|participant|holdsPost|
  postIn|hasMember|ally|ledBy|delegationOf|aboutActor|speaker|performedBy|attributedTo|target|
  respondsTo|ledTo|sonInLawOf*..8]->(b)) AS chain
WITH chain WHERE chain IS NOT NULL
UNWIND range(0, length(chain) - 1) AS step
WITH step, nodes(chain)[step] AS node, relationships(chain)[step] AS r,
nodes(chain)[step + 1] AS next
RETURN step, node {.iri, .label_en, .label_zh} AS node, type(r) AS relation,
       next {.iri, .label_en, .label_zh} AS next
ORDER BY step
