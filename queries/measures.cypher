// question: What punitive measures followed the talks: by whom, against whom, with which figures
//   (targets counted by kind, tariff rate)? A measure follows talks that took place when it, or
//   the order or statement it was imposed through, is kg:after them. One row per target.
// columns: measure kind by imposed_through ordered_by date status target target_kind count count_qualifier rate rate_qualifier tariff_basis_en purpose_en
// the talks that took place first (a few nodes), then what followed them
MATCH (talks:Talks)-[:status]->(:Resource {id: 'kg:happened'})
// the measure is after the talks, or was imposed through something that is (zero or one hop)
MATCH (measure)-[:imposedThrough*0..1]->()-[:after]->(talks)
WITH DISTINCT measure
// its most specific kinds (a measure is whatever has a kind under kg:PunitiveMeasure)
MATCH (measure)-[:rdf__type]->(kind)-[:rdfs__subClassOf*0..]->(:Resource {id: 'kg:PunitiveMeasure'})
WITH DISTINCT measure, kind
OPTIONAL MATCH (measure)-[:rdf__type]->(narrower)-[:rdfs__subClassOf*1..]->(kind)
  WHERE narrower <> kind
WITH measure, kind, count(narrower) AS narrower_kinds
WHERE narrower_kinds = 0
OPTIONAL MATCH (measure)-[:performedBy]->(by)
OPTIONAL MATCH (measure)-[:imposedThrough]->(imposed_through)
OPTIONAL MATCH (imposed_through)-[:performedBy|speaker]->(ordered_by)
OPTIONAL MATCH (measure)-[:status]->(status)
OPTIONAL MATCH (measure)-[:valueQualifier]->(rate_qualifier)
OPTIONAL MATCH (measure)-[:target]->(target)
OPTIONAL MATCH (target)-[:memberKind]->(target_kind)
OPTIONAL MATCH (target)-[:countQualifier]->(count_qualifier)
RETURN DISTINCT measure {.iri, .label_en, .label_zh} AS measure,
                kind {.iri, .label_en, .label_zh} AS kind, by {.iri, .label_en, .label_zh} AS by,
                imposed_through {.iri, .label_en, .label_zh} AS imposed_through,
                ordered_by {.iri, .label_en, .label_zh} AS ordered_by, measure.date AS date,
                status {.iri, .label_en, .label_zh} AS status,
       target {.iri, .label_en, .label_zh} AS target,
       target_kind {.iri, .label_en, .label_zh} AS target_kind, target.memberCount AS count,
       count_qualifier {.iri, .label_en, .label_zh} AS count_qualifier,
       measure.rate AS rate, rate_qualifier {.iri, .label_en, .label_zh} AS rate_qualifier,
       measure.tariffBasis_en AS tariff_basis_en,
       measure.purpose_en AS purpose_en
// SPARQL sorts unbound values first (last when descending); Cypher does the opposite
ORDER BY date IS NOT NULL, date, measure.iri, count IS NULL, count DESC,
         target.iri IS NOT NULL, target.iri
