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
RETURN DISTINCT demand {.iri, .label_en, .label_zh} AS demand,
                issue {.iri, .label_en, .label_zh} AS issue, demand.slogan_zh AS slogan_zh,
                package {.iri, .label_en, .label_zh} AS package,
                stated_in {.iri, .label_en, .label_zh} AS stated_in,
                phase {.iri, .label_en, .label_zh} AS phase,
       demand.firstQuoteStart AS pos
ORDER BY pos IS NOT NULL, pos, demand.iri, issue.iri IS NOT NULL, issue.iri
