// question: What did Iran offer, on what condition? (conditional offers held by Iran or by an
//   actor affiliated with it; the reduction from/to in percent with how exact it is, the
//   condition and who must meet it)
// columns: offer holder issue from_percent to_percent value_qualifier condition required_of condition_issue stated_in
MATCH (offer:ConditionalOffer)-[:heldBy]->(holder)-[:affiliatedWith*0..]->(:Resource {id: 'iran'})
WITH DISTINCT offer, holder
OPTIONAL MATCH (offer)-[:aboutIssue]->(issue)
OPTIONAL MATCH (offer)-[:valueQualifier]->(value_qualifier)
OPTIONAL MATCH (offer)-[:hasCondition]->(condition)
OPTIONAL MATCH (condition)-[:requiredOf]->(required_of)
OPTIONAL MATCH (condition)-[:aboutIssue]->(condition_issue)
OPTIONAL MATCH (offer)-[:statedIn]->(stated_in)
RETURN DISTINCT offer {.iri, .label_en, .label_zh} AS offer,
                holder {.iri, .label_en, .label_zh} AS holder,
                issue {.iri, .label_en, .label_zh} AS issue, offer.fromPercent AS from_percent,
       offer.toPercent AS to_percent,
       value_qualifier {.iri, .label_en, .label_zh} AS value_qualifier,
       condition {.iri, .label_en, .label_zh} AS condition,
       required_of {.iri, .label_en, .label_zh} AS required_of,
       condition_issue {.iri, .label_en, .label_zh} AS condition_issue,
       stated_in {.iri, .label_en, .label_zh} AS stated_in, offer.firstQuoteStart AS pos
ORDER BY pos IS NOT NULL, pos, offer.iri, issue.iri IS NOT NULL, issue.iri,
         condition.iri IS NOT NULL, condition.iri
