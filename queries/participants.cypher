// question: Who took part in the talks, for which side, in which role (head of delegation,
//   member, mediator)? One row per participation in talks that took place; a mediator has no side.
// columns: talks participant side role title
MATCH (talks:Talks)-[:status]->(:Resource {id: 'kg:happened'}),
      (talks)-[:hasParticipation]->(p)-[:participant]->(participant),
      (p)-[:role]->(role)
OPTIONAL MATCH (p)-[:onSide]->(side)
OPTIONAL MATCH (participant)-[:holdsPost]->(post)
// the post the article gives the participant (the first by IRI, should there be several)
WITH talks, participant, side, role, min(post.iri) AS title_iri
OPTIONAL MATCH (title:Resource {iri: title_iri})
RETURN DISTINCT talks {.iri, .label_en, .label_zh} AS talks,
                participant {.iri, .label_en, .label_zh} AS participant,
                side {.iri, .label_en, .label_zh} AS side,
                role {.iri, .label_en, .label_zh} AS role,
                title {.iri, .label_en, .label_zh} AS title,
       CASE role.id WHEN 'kg:headOfDelegation' THEN 1 WHEN 'kg:delegationMember' THEN 2
                    WHEN 'kg:mediator' THEN 3 ELSE 4 END AS rank
ORDER BY talks.iri, side.iri IS NULL, side.iri, rank, participant.iri
