"""The list page and the leaderboard in a real headless Chromium, with evaluated learners: each shows the
headline effect with its CI, p, seeds and verdict; significant ones rank first, a learner that made fine-tuning
slightly worse (1.011, not significant, loses to random) does not; unevaluated versions stand apart, unranked;
yanked versions are marked."""

from __future__ import annotations

from registry_helpers import evaluation_record, isolated_learnerhub_home, make_learner_folder  # noqa: F401
from test_server_web import browser  # noqa: F401 (the Chromium fixture)

import registry
from server import create_app
from server.testing import running_server


def few_seeds(ratio: float, ci: tuple[float, float]) -> dict:
    record = evaluation_record(ratio, ci, seeds=3)
    record["effect"]["final"]["p_value"] = 0.25   # 3 seeds: the Wilcoxon p cannot go lower
    return record


def publish_the_field(root, model, tokenizer) -> None:
    """worse@1.0.0 (1.011, not significant, loses to random), good@1.0.0 (0.930, significant), good@1.1.0
    (0.900, significant, then yanked), few@1.0.0 (0.950, CI below 1 at 3 seeds), plain@1.0.0 (unevaluated)."""
    field = [("worse", "1.0.0", [evaluation_record(1.011, (0.990, 1.030), vs_random=1.02)], None),
             ("good", "1.0.0", [evaluation_record(0.930, (0.900, 0.950))], None),
             ("good", "1.1.0", [evaluation_record(0.900, (0.850, 0.960))], None),
             ("few", "1.0.0", [few_seeds(0.950, (0.930, 0.970))], None),
             ("plain", "1.0.0", [], {"test_spearman": 0.62, "build_seconds": 0.5, "calibration_contexts": 1024})]
    for seed, (org, version, evaluations, metrics) in enumerate(field):
        folder = make_learner_folder(root / f"{org}-{version}", model, tokenizer, seed=seed, metrics=metrics,
                                     evaluations=evaluations)
        registry.publish(folder, version=version, org=org, store=root / "store")
    registry.yank("good/igf-gpt2-kjv@1.1.0", reason="trained on the test split", store=root / "store")


def cells(row) -> list[str]:
    from selenium.webdriver.common.by import By

    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def test_list_page_and_leaderboard_rank_by_the_effect_with_its_ci(tmp_path, tiny_gpt2, tokenizer, browser):
    from selenium.webdriver.common.by import By

    publish_the_field(tmp_path, tiny_gpt2, tokenizer)
    with running_server(create_app(tmp_path / "store")) as url:
        browser.get(url + "/")
        rows = browser.find_elements(By.CSS_SELECTOR, "#learners tr")[1:]
        names = [cells(row)[0] for row in rows]
        assert names == ["good/igf-gpt2-kjv", "few/igf-gpt2-kjv", "worse/igf-gpt2-kjv", "plain/igf-gpt2-kjv"]
        good, few, worse, plain = (cells(row) for row in rows)
        assert good[5:9] == ["0.930 [0.900-0.950]", "0.01", "5", "better"]
        assert few[5:9] == ["0.950 [0.930-0.970]", "0.25", "3", "better, too few seeds"]
        assert worse[5:9] == ["1.011 [0.990-1.030]", "0.01", "5", "not significant, loses to random"]
        assert plain[5:9] == ["-", "-", "-", "not evaluated"]

        browser.get(url + "/leaderboard?corpus=kjv&base_model=tiny/gpt2")
        header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#leaderboard th")]
        assert header == ["#", "learner", "version", "ratio [95% CI]", "p", "seeds", "verdict", "vs random", "kept",
                          "Spearman", "created"]        # a handful of headline columns, not every metric
        ranked = [cells(row) for row in browser.find_elements(By.CSS_SELECTOR, "#leaderboard tr")[1:]]
        assert [(r[0], r[1], r[2].split()[0]) for r in ranked] == [
            ("1", "good/igf-gpt2-kjv", "1.0.0"), ("2", "few/igf-gpt2-kjv", "1.0.0"),
            ("3", "worse/igf-gpt2-kjv", "1.0.0"), ("4", "good/igf-gpt2-kjv", "1.1.0")]
        assert ranked[0][3:7] == ["0.930 [0.900-0.950]", "0.01", "5", "better"]
        assert ranked[2][6:8] == ["not significant", "1.020 loses to random"]
        assert "yanked" in ranked[3][2] and "yanked" not in ranked[0][2]
        mark = browser.find_element(By.CSS_SELECTOR, "#leaderboard .yanked-mark")
        assert mark.get_attribute("title") == "trained on the test split" and mark.is_displayed()

        assert browser.find_element(By.ID, "unevaluated-title").is_displayed()
        apart = [cells(row) for row in browser.find_elements(By.CSS_SELECTOR, "#unevaluated tr")[1:]]
        assert [row[0] for row in apart] == ["plain/igf-gpt2-kjv"] and apart[0][2] == "0.62"
        assert "build_seconds" not in browser.find_element(By.TAG_NAME, "main").text
        browser.save_screenshot(str(tmp_path / "leaderboard.png"))

        import httpx   # the browse API answers the same ranking
        board = httpx.get(url + "/api/leaderboard", params={"corpus": "kjv", "base_model": "tiny/gpt2"}).json()
        assert [(r["repo_id"].split("/")[0], r["version"], r["yanked"]) for r in board["rows"]] == [
            ("good", "1.0.0", False), ("few", "1.0.0", False), ("worse", "1.0.0", False), ("good", "1.1.0", True)]
        assert board["rows"][2]["headline"]["words"] == "not significant, loses to random"
        assert [r["repo_id"] for r in board["unevaluated"]] == ["plain/igf-gpt2-kjv"]
    assert (tmp_path / "leaderboard.png").stat().st_size > 1000
