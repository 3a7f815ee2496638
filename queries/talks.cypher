// question: When and where were the talks held, in what format, for how long, with what
//   outcome? One row per talks and format (talks held in two formats at once give two rows);
//   planned, abandoned and earlier talks are listed too, with their status.
// columns: talks status date precision year_inferred date_as_written relative_time_en location format duration duration_qualifier agreement_reached outcome_en
MATCH (talks:Talks)
OPTIONAL MATCH (talks)-[:status]->(status)
OPTIONAL MATCH (talks)-[:datePrecision]->(precision)
OPTIONAL MATCH (talks)-[:location]->(location)
OPTIONAL MATCH (talks)-[:format]->(format)
OPTIONAL MATCH (talks)-[:durationQualifier]->(duration_qualifier)
RETURN DISTINCT talks {.iri, .label_en, .label_zh} AS talks,
                status {.iri, .label_en, .label_zh} AS status, talks.date AS date,
                precision {.iri, .label_en, .label_zh} AS precision,
       // false when the date is printed in full; empty for talks without a date
       CASE WHEN talks.date IS NULL THEN null ELSE coalesce(talks.yearInferred, false) END
         AS year_inferred,
       talks.dateAsWritten_zh AS date_as_written, talks.relativeTime_en AS relative_time_en,
       location {.iri, .label_en, .label_zh} AS location,
       format {.iri, .label_en, .label_zh} AS format, talks.duration AS duration,
       duration_qualifier {.iri, .label_en, .label_zh} AS duration_qualifier,
       talks.agreementReached AS agreement_reached, talks.outcome_en AS outcome_en
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY date IS NULL, date, status.iri IS NOT NULL, status.iri, talks.iri,
         format.iri IS NOT NULL, format.iri
