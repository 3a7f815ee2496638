// question: Who said what, and when? One row per public statement, in the order the article
//   tells them: the words in Chinese as the source gives them, an English rendering, whether the
//   source quotes them directly, and when: the date, the time relative to the story, the event
//   it is said to have followed.
// columns: speaker statement date relative_time_en after quote_zh english direct_quote
MATCH (statement:PublicStatement)
OPTIONAL MATCH (statement)-[:speaker]->(speaker)
OPTIONAL MATCH (statement)-[:after]->(after)
RETURN DISTINCT speaker {.iri, .label_en, .label_zh} AS speaker,
                statement {.iri, .label_en, .label_zh} AS statement, statement.date AS date,
       statement.relativeTime_en AS relative_time_en, after {.iri, .label_en, .label_zh} AS after,
       statement.statedText_zh AS quote_zh,
       statement.englishRendering_en AS english, statement.directQuote AS direct_quote,
       statement.firstQuoteStart AS pos
ORDER BY pos IS NOT NULL, pos, statement.iri, speaker.iri IS NOT NULL, speaker.iri,
         after.iri IS NOT NULL, after.iri
