import dspy

from sdsd_dspy import topics
from sdsd_dspy.taskdata import load_domains
from sdsd_dspy.types import Domain
from tests.fakes import scripted_lm


def test_grow_dedups_and_fills_subareas(tmp_path):
    start = [Domain(name="Home cooking", group="food", subareas=["a", "b", "c"])]
    lm, _ = scripted_lm({
        "propose_domains": [{"domains": ["Cooking at home", "Astronomy", "astronomy", "Urban planning"]}],
        "propose_subareas": [{"subareas": ["Telescopes", "telescope", "Planets", "Stars"]},
                             {"subareas": ["Comets"]},
                             {"subareas": ["Zoning", "Transit", "Parks"]}],
    })
    with dspy.context(lm=lm):
        grown, rejected = topics.grow(start, new_domains=2, subareas=3)
    assert [d.name for d in grown] == ["Home cooking", "Astronomy", "Urban planning"]
    assert grown[1].subareas == ["Telescopes", "Planets", "Stars"]
    assert "Cooking at home" in rejected and "astronomy" in rejected
    path = tmp_path / "t.yaml"
    topics.dump_domains(grown, path)
    assert [d.name for d in load_domains(path)] == [d.name for d in grown]


def test_stats_cli(capsys):
    assert topics.main(["stats"]) == 0
    assert "domains" in capsys.readouterr().out


def test_bad_topics_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains: [{name: A}]")
    assert topics.main(["stats", "--topics", str(bad)]) == 2
