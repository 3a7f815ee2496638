// question: What is stated about a node, one hop out, with the quote that supports each
//   neighbour? One row per relation and neighbour, asserted or inferred, with the first
//   anchored quote of the neighbour (if any).
// param: node IRI  the node (e.g. kgr:araghchi)
// columns: direction relation neighbour asserted quote start
MATCH (n:Resource {iri: $node})-[r]-(m:Resource)
WHERE type(r) <> 'IN_GRAPH' AND type(r) <> 'rdf__type' AND type(r) <> 'hasEvidence'
      AND NOT m:NamedGraph
WITH n, r, m, CASE WHEN startNode(r) = n THEN 'out' ELSE 'in' END AS direction
OPTIONAL MATCH (m)-[:hasEvidence]->(a:Annotation)
WITH direction, r, m, a ORDER BY a.start
WITH direction, type(r) AS relation, m AS neighbour, r.asserted AS asserted, collect(a)[0] AS first
RETURN direction, relation, neighbour {.iri, .label_en, .label_zh} AS neighbour, asserted,
       first.quote AS quote, first.start AS start
ORDER BY direction DESC, relation, neighbour.iri
