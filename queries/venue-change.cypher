// question: What venue and format were first planned, who proposed the change, when, what the
//   proposal restricted, how the US reacted, and what made it relent? One row per fact of the
//   episode, step by step: the plan, the proposal, the reactions to it, what led to the
//   concession, and the concession (aspect names the property, or the role of a participant).
// columns: step aspect value
MATCH (proposal:Proposal)-[:proposesChangeTo]->()
WITH DISTINCT proposal
// the steps of the episode, ranked
CALL {
  // the plan the proposal would change
  WITH proposal
  MATCH (proposal)-[:proposesChangeTo]->(step)
  RETURN step, 1 AS step_rank
  UNION
  // the proposal itself
  WITH proposal
  RETURN proposal AS step, 2 AS step_rank
  UNION
  // reactions to it (rejection, ultimatum, threats; the concession comes last)
  WITH proposal
  MATCH (step)-[:respondsTo|after]->(proposal)
  RETURN step, CASE WHEN step:Concession THEN 5 ELSE 3 END AS step_rank
  UNION
  // what brought a reaction about (the lobbying that led to the concession)
  WITH proposal
  MATCH (step)-[:ledTo]->()-[:respondsTo]->(proposal)
  RETURN step, 4 AS step_rank
}
// the facts of each step, ranked; value_key sorts them (an IRI, or the text itself)
CALL {
  WITH step
  MATCH (step)-[:performedBy|speaker]->(value), (aspect:Resource {id: 'kg:performedBy'})
  RETURN aspect, 1 AS aspect_rank, value {.iri, .label_en, .label_zh} AS value,
         value.iri AS value_key
  UNION
  // a participant, under its role
  WITH step
  MATCH (step)-[:hasParticipation]->(participation)-[:role]->(aspect),
        (participation)-[:participant]->(value)
  RETURN aspect, 5 AS aspect_rank, value {.iri, .label_en, .label_zh} AS value,
         value.iri AS value_key
  UNION
  // the relations that tell the episode (a step that took place needs no status)
  WITH step
  MATCH (step)-[r]->(value)
  WITH r, value,
       {location: 3, format: 4, status: 6, supersededBy: 7, proposedLocation: 8,
        proposedFormat: 9, restrictsParticipationTo: 10, restrictsAgendaTo: 11, threatens: 15,
        hasCondition: 16, announces: 17, target: 18, agreedLocation: 19, agreedFormat: 20,
        ledTo: 21} AS ranks
  WHERE type(r) IN keys(ranks) AND NOT (type(r) = 'status' AND value.id = 'kg:happened')
  MATCH (aspect:Resource {relationshipType: type(r)})
  RETURN aspect, ranks[type(r)] AS aspect_rank, value {.iri, .label_en, .label_zh} AS value,
         value.iri AS value_key
  UNION
  // the date, and the words: in Chinese as the source gives them, and in English
  WITH step
  UNWIND [['kg:date', 2, step.date], ['kg:statedText', 13, step.statedText_zh],
          ['kg:englishRendering', 14, step.englishRendering_en]] AS fact
  WITH fact WHERE fact[2] IS NOT NULL
  MATCH (aspect:Resource {id: fact[0]})
  RETURN aspect, fact[1] AS aspect_rank, fact[2] AS value, fact[2] AS value_key
}
RETURN DISTINCT proposal {.iri, .label_en, .label_zh} AS proposal,
                step {.iri, .label_en, .label_zh} AS step,
                aspect {.iri, .label_en, .label_zh} AS aspect, value, step_rank,
                step.firstQuoteStart AS step_pos,
                aspect_rank, value_key
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY proposal.iri, step_rank, step_pos IS NOT NULL, step_pos, step.iri, aspect_rank,
         value_key
