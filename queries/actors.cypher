// question: Every actor with its kind, affiliation and title as the article gives them: the most
//   specific kind, the state or body it belongs to (for a delegation, the state it represents),
//   the post it holds, and a family tie the article names it by (Trump's son-in-law). Several
//   affiliations or posts give several rows.
// columns: actor kind affiliation title relation relative
// the kinds of actor: kg: classes under kg:Actor
// from the class down (its id is indexed), not from every node up
MATCH (:Resource {id: 'kg:Actor'})<-[:rdfs__subClassOf*0..]-(kind)
WHERE kind.id STARTS WITH 'kg:'
WITH DISTINCT kind
MATCH (actor:Actor)-[:rdf__type]->(kind)
// the most specific of an actor's kinds: none of its other kg: kinds is narrower
OPTIONAL MATCH (actor)-[:rdf__type]->(narrower)-[:rdfs__subClassOf*1..]->(kind)
  WHERE narrower <> kind AND narrower.id STARTS WITH 'kg:'
WITH actor, kind, count(narrower) AS narrower_kinds
WHERE narrower_kinds = 0
// (the first by IRI, should there be several)
WITH actor, min(kind.iri) AS kind_iri
MATCH (kind:Resource {iri: kind_iri})
OPTIONAL MATCH (actor)-[:affiliatedWith|delegationOf]->(affiliation)
OPTIONAL MATCH (actor)-[:holdsPost]->(title)
// a family tie: a relation declared under schema:relatedTo (not that one itself). The build's
// inference states schema:relatedTo beside each such tie: it finds the relatives, then the
// relationships between the two say which relation it is
OPTIONAL MATCH (actor)-[:schema__relatedTo]->(relative)
OPTIONAL MATCH (actor)-[tie]->(relative)
  WHERE type(tie) <> 'schema__relatedTo'
WITH actor, kind, affiliation, title, relative, type(tie) AS tie_type
OPTIONAL MATCH (relation:Resource {relationshipType: tie_type})
                 -[:rdfs__subPropertyOf*1..]->(:Resource {id: 'schema:relatedTo'})
RETURN DISTINCT actor {.iri, .label_en, .label_zh} AS actor,
                kind {.iri, .label_en, .label_zh} AS kind,
                affiliation {.iri, .label_en, .label_zh} AS affiliation,
                title {.iri, .label_en, .label_zh} AS title,
                relation {.iri, .label_en, .label_zh} AS relation,
                relative {.iri, .label_en, .label_zh} AS relative
// SPARQL sorts unbound values first; Cypher puts nulls last unless told
ORDER BY kind.iri, actor.iri, affiliation.iri IS NOT NULL, affiliation.iri, title.iri IS NOT NULL,
         title.iri, relation.iri IS NOT NULL, relation.iri, relative.iri IS NOT NULL, relative.iri
