// question: Which positions and red lines did Iran state, who stated them, on which issue, how
//   firmly? (held by Iran or by an actor affiliated with it; "stated_by" is the speaker of the
//   statement the position was announced in, when the holder did not speak for itself; a
//   position on several issues gives a row per issue)
// columns: position kind holder stated_by issue firmness stated_in phase
// Iran and who is affiliated with it (a few nodes) first, then what they hold
MATCH (holder)-[:affiliatedWith*0..]->(:Resource {id: 'iran'})
WITH DISTINCT holder
MATCH (position:Position)-[:heldBy]->(holder)
WITH position, holder,
     CASE WHEN position:RedLine THEN 'kg:RedLine' ELSE 'kg:Position' END AS kind_id
// (the id computed first: FalkorDB uses the id index for a value, not for a CASE in the pattern)
MATCH (kind:Resource {id: kind_id})
OPTIONAL MATCH (position)-[:aboutIssue]->(issue)
OPTIONAL MATCH (position)-[:firmness]->(firmness)
OPTIONAL MATCH (position)-[:statedIn]->(stated_in)
// who spoke for the holder, if someone else did
OPTIONAL MATCH (position)-[:statedIn]->()-[:speaker|performedBy]->(stated_by)
  WHERE stated_by <> holder
OPTIONAL MATCH (position)-[:storyPhase]->(phase)
RETURN DISTINCT position {.iri, .label_en, .label_zh} AS position,
                kind {.iri, .label_en, .label_zh} AS kind,
                holder {.iri, .label_en, .label_zh} AS holder,
                stated_by {.iri, .label_en, .label_zh} AS stated_by,
                issue {.iri, .label_en, .label_zh} AS issue,
                firmness {.iri, .label_en, .label_zh} AS firmness,
                stated_in {.iri, .label_en, .label_zh} AS stated_in,
                phase {.iri, .label_en, .label_zh} AS phase,
       position.firstQuoteStart AS pos
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY pos IS NOT NULL, pos, position.iri, issue.iri IS NOT NULL, issue.iri,
         stated_by.iri IS NOT NULL, stated_by.iri
