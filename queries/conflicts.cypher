// question: Which US demands collide with an Iranian position on the same issue? A demand of the
//   US (or of an actor affiliated with it) collides with a position, red line or conditional
//   offer held by Iran or by an actor affiliated with Iran when the demand's issue is the
//   stance's issue, or narrower than it (skos:broader+), or an issue the stance refuses to put on
//   the agenda (kg:excludesFromAgenda). Demand and stance are paired within one source text
//   (an article that reports both): over a collection of articles every demand would otherwise
//   meet every stance of every other round of talks.
// columns: demand demand_issue stance kind holder via stance_issue firmness source
// The source of a node is the article of a graph where the build anchored a quote of it: that
// graph's IN_GRAPH holds the node's firstQuoteStart, and the article's own IN_GRAPH to it
// holds the sourceFile.
// Iran's stances first (from Iran and the few actors affiliated with it), grouped by the
// source that reports them: a short list per source, found once rather than once per demand
MATCH (holder)-[:affiliatedWith*0..]->(:Resource {id: 'iran'})
WITH DISTINCT holder
MATCH (stance)-[:heldBy]->(holder)
WHERE stance:Position OR stance:ConditionalOffer
// "via" says how the stance touches the issue: it is about it, or refuses it on the agenda
MATCH (stance)-[via:aboutIssue|excludesFromAgenda]->(stance_issue),
      (stance)-[quoted:IN_GRAPH]->(graph)<-[told:IN_GRAPH]-(source)
WHERE quoted.firstQuoteStart IS NOT NULL AND told.sourceFile IS NOT NULL
WITH source,
     collect(DISTINCT [stance, holder, type(via), stance_issue, quoted.firstQuoteStart])
       AS stances
// then the US demands the same source reports
MATCH (source)-[told:IN_GRAPH]->(graph)<-[quoted:IN_GRAPH]-(demand:Demand)
WHERE told.sourceFile IS NOT NULL AND quoted.firstQuoteStart IS NOT NULL
MATCH (demand)-[:heldBy]->()-[:affiliatedWith*0..]->(:Resource {id: 'united-states'})
WITH DISTINCT source, stances, demand, quoted.firstQuoteStart AS demand_pos
MATCH (demand)-[:aboutIssue]->(demand_issue)
UNWIND stances AS s
WITH source, demand, demand_pos, demand_issue, s[0] AS stance, s[1] AS holder, s[2] AS via_type,
     s[3] AS stance_issue, s[4] AS stance_pos
// the demand's issue is the stance's, or narrower (OPTIONAL MATCH and count rather than a
// pattern predicate: FalkorDB 4.16 fails on a pattern predicate on a node taken from a list)
OPTIONAL MATCH broader = (demand_issue)-[:skos__broader*1..]->(stance_issue)
WITH source, demand, demand_pos, demand_issue, stance, holder, via_type, stance_issue,
     stance_pos, count(broader) AS broader_paths
WHERE demand_issue = stance_issue OR broader_paths > 0
WITH source, demand, demand_pos, demand_issue, stance, holder, via_type, stance_issue,
     stance_pos,
     CASE WHEN stance:RedLine THEN 'kg:RedLine' WHEN stance:ConditionalOffer
          THEN 'kg:ConditionalOffer' ELSE 'kg:Position' END AS kind_id
MATCH (via:Resource {relationshipType: via_type}), (kind:Resource {id: kind_id})
OPTIONAL MATCH (stance)-[:firmness]->(firmness)
RETURN DISTINCT demand {.iri, .label_en, .label_zh} AS demand,
                demand_issue {.iri, .label_en, .label_zh} AS demand_issue,
                stance {.iri, .label_en, .label_zh} AS stance,
                kind {.iri, .label_en, .label_zh} AS kind,
                holder {.iri, .label_en, .label_zh} AS holder,
                via {.iri, .label_en, .label_zh} AS via,
                stance_issue {.iri, .label_en, .label_zh} AS stance_issue,
                firmness {.iri, .label_en, .label_zh} AS firmness,
                source {.iri, .label_en, .label_zh} AS source,
       demand_pos, stance_pos
ORDER BY source.iri, demand_pos, demand.iri, stance_pos, stance.iri, via.iri, stance_issue.iri
