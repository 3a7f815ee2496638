// question: What did the US demand of Iran? One row per demand, with the issue it concerns
//   (demands made by the US or by an actor affiliated with it, addressed to Iran or to an actor
//   affiliated with it; a demand on several issues gives a row per issue).
// columns: demand issue slogan_zh package stated_in phase
MATCH (demand:Demand)-[:heldBy]->()-[:affiliatedWith*0..]->(:Resource {id: 'united-states'})
MATCH (demand)-[:addressedTo]->()-[:affiliatedWith*0..]->(:Resource {id: 'iran'})
WITH DISTINCT demand
OPTIONAL MATCH (demand)-[:aboutIssue]->(issue)
OPTIONAL MATCH (package)-[:includesDemand]->(demand)
OPTIONAL MATCH (demand)-[:statedIn]->(stated_in)
OPTIONAL MATCH (demand)-[:storyPhase]->(phase)
// SPARQL sorts a demand without a position first; Cypher puts nulls last unless told
RETURN DISTINCT demand, issue, demand.slogan_zh AS slogan_zh, package, stated_in, phase,
       demand.firstQuoteStart AS pos
ORDER BY pos IS NOT NULL, pos, demand.iri, issue IS NOT NULL, issue.iri
