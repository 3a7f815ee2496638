"""`kg shacl DATA... --shapes SHAPES...`: the report on stdout, exit 0 / 1 / 2."""

from __future__ import annotations

from pathlib import Path

SUITE = Path(__file__).resolve().parent / "w3c-shacl"
SHAPES = """@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
ex:S a sh:NodeShape ; sh:targetClass ex:P ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:severity sh:Warning ;
                sh:message "a name, please"@en ] .
"""


def test_a_warning_makes_the_report_not_conform(run_kg, tmp_path):
    (tmp_path / "d.ttl").write_text("<http://example.org/a> a <http://example.org/P> .\n")
    (tmp_path / "s.ttl").write_text(SHAPES)
    got = run_kg("shacl", "d.ttl", "--shapes", "s.ttl", cwd=tmp_path)
    assert got.returncode == 1, got.stderr
    assert "sh:conforms false" in got.stdout and "sh:Warning" in got.stdout
    assert '"a name, please"@en' in got.stdout
    again = run_kg("shacl", "d.ttl", "--shapes", "s.ttl", cwd=tmp_path)
    assert again.stdout == got.stdout  # deterministic, blank nodes included
    nt = run_kg("shacl", "d.ttl", "--shapes", "s.ttl", "--format", "nt", cwd=tmp_path)
    assert "<http://www.w3.org/ns/shacl#conforms>" in nt.stdout and nt.returncode == 1


def test_conforming_data_exits_0(run_kg, tmp_path):
    (tmp_path / "d.ttl").write_text(
        '<http://example.org/a> a <http://example.org/P> ; <http://example.org/name> "A" .\n'
    )
    (tmp_path / "s.ttl").write_text(SHAPES)
    got = run_kg("shacl", "d.ttl", "--shapes", "s.ttl", cwd=tmp_path)
    assert got.returncode == 0 and "sh:conforms true" in got.stdout and not got.stderr


def test_shapes_that_must_be_refused_exit_2_without_a_traceback(run_kg):
    case = SUITE / "sparql" / "pre-binding" / "unsupported-sparql-001.ttl"
    got = run_kg("shacl", str(case), "--shapes", str(case))
    assert got.returncode == 2 and got.stdout == ""
    assert "kg: error: the shapes are not valid SHACL" in got.stderr and "MINUS" in got.stderr
    assert "Traceback" not in got.stderr


def test_shapes_beyond_kgs_engine_are_validated_by_pyshacl_with_a_note(run_kg):
    case = SUITE / "core" / "node" / "or-001.ttl"
    got = run_kg("shacl", str(case), "--shapes", str(case))
    assert got.returncode == 1 and "sh:OrConstraintComponent" in got.stdout
    assert "validated with pySHACL" in got.stderr and "sh:or" in got.stderr


def test_bad_files_exit_2(run_kg, tmp_path):
    (tmp_path / "bad.ttl").write_text("<a> <b> .\n")
    got = run_kg("shacl", "bad.ttl", "--shapes", "bad.ttl", cwd=tmp_path)
    assert got.returncode == 2 and "bad.ttl:1" in got.stderr and "Traceback" not in got.stderr
    got = run_kg("shacl", "missing.ttl", "--shapes", "bad.ttl", cwd=tmp_path)
    assert got.returncode == 2 and "missing.ttl" in got.stderr


def test_a_property_shape_shared_by_two_node_shapes_reports_once_per_parent(tmp_path):
    from kg.shacl_report import validate_files

    (tmp_path / "d.ttl").write_text("<http://example.org/a> a <http://example.org/P> .\n")
    (tmp_path / "s.ttl").write_text(
        """@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
ex:A a sh:NodeShape ; sh:targetClass ex:P ; sh:property ex:Name .
ex:B a sh:NodeShape ; sh:targetNode ex:a ; sh:property ex:Name .
ex:Name a sh:PropertyShape ; sh:path ex:name ; sh:minCount 1 .
"""
    )
    report = validate_files([tmp_path / "d.ttl"], [tmp_path / "s.ttl"])
    assert report.engine == "kg"
    assert [r.component.value.split("#")[1] for r in report.results] == [
        "MinCountConstraintComponent"
    ] * 2
    assert (
        len(validate_files([tmp_path / "d.ttl"], [tmp_path / "s.ttl"], engine="pyshacl").results)
        == 2
    )
