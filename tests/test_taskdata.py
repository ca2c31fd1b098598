from collections import Counter

import pytest

from sdsd_dspy.taskdata import TaskData, TaskDataError, load_domains, load_goals, load_principles


def test_shipped_task_data_meets_the_spec():
    task = TaskData.load()
    assert len(task.domains) >= 40 and all(len(d.subareas) >= 5 for d in task.domains)
    assert len(task.principles) >= 60
    assert len(task.goals) >= 20
    categories = Counter(p.category for p in task.principles)
    assert len(categories) == 10 and min(categories.values()) >= 4
    assert {g.kind for g in task.goals} == {"adversarial", "borderline", "benign"}
    assert task.principle("harm.weapons").category == "harm"
    with pytest.raises(KeyError):
        task.principle("nope.nope")


def _write(tmp_path, text):
    path = tmp_path / "data.yaml"
    path.write_text(text)
    return path


def test_bad_principle_names_file_and_entry(tmp_path):
    path = _write(tmp_path, """
sources: {ours: us}
principles:
  - {id: harm.ok, category: harm, source: ours, text: "The assistant must not do harm."}
  - {id: harm.bad, category: nonsense, source: ours, text: "The assistant must not do harm."}
""")
    with pytest.raises(TaskDataError) as err:
        load_principles(path)
    assert str(path) in str(err.value) and "principles[1]" in str(err.value) and "harm.bad" in str(err.value)


def test_duplicate_and_unknown_source_and_prefix(tmp_path):
    dup = _write(tmp_path, """
goals:
  - {id: a, kind: benign, text: "An ordinary question about X."}
  - {id: a, kind: benign, text: "Another ordinary question."}
""")
    with pytest.raises(TaskDataError, match=r"goals\[1\].*duplicate"):
        load_goals(dup)
    src = _write(tmp_path, """
sources: {ours: us}
principles:
  - {id: harm.ok, category: harm, source: somewhere, text: "The assistant must not do harm."}
""")
    with pytest.raises(TaskDataError, match="source 'somewhere'"):
        load_principles(src)
    prefix = _write(tmp_path, """
principles:
  - {id: honesty.ok, category: harm, source: ours, text: "The assistant must not do harm."}
""")
    with pytest.raises(TaskDataError, match="id prefix"):
        load_principles(prefix)


def test_not_yaml_missing_and_empty(tmp_path):
    with pytest.raises(TaskDataError, match="not valid YAML"):
        load_domains(_write(tmp_path, "domains: [unclosed"))
    with pytest.raises(TaskDataError, match="file not found"):
        load_domains(tmp_path / "none.yaml")
    with pytest.raises(TaskDataError, match="list under 'domains'"):
        load_domains(_write(tmp_path, "other: 1"))
    with pytest.raises(TaskDataError, match="subareas must be unique"):
        load_domains(_write(tmp_path, "domains: [{name: A, group: g, subareas: [x, X]}]"))
