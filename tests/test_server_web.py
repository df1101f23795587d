"""The web pages in a real headless Chromium (Debian chromium + chromium-driver): load the list, search,
open a learner, read its score, see its plot and card; a screenshot lands in the test's folder.

Chromium is part of the test set-up (`make browser`): when it is missing this test fails, it never skips.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from server import create_app
from server.testing import running_server

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def tiny_png(path: Path) -> None:
    """A real 2x2 PNG, so the browser has an image to decode (a learner's perplexity plot)."""
    rows = b"".join(b"\0" + bytes([200, 30, 30] * 2) for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture()
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("The page test needs Chromium: install the Debian packages `chromium` and `chromium-driver` "
                    "(make browser, or apt-get install -y chromium chromium-driver).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def click_and_wait_for_new_page(browser, element) -> None:
    """Click something that navigates, then wait until the old page is gone and the new one has loaded:
    reading elements right after a click can see the old page, or none (a flaky test otherwise)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(browser, 20)
    wait.until(expected_conditions.staleness_of(old_page))
    wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def test_search_open_a_learner_and_see_its_score(tmp_path, tokenizer, browser):
    from selenium.webdriver.common.by import By

    model = make_tiny_gpt2(tokenizer)
    for seed, corpus in enumerate(("kjv", "pydocs", "wiki")):
        folder = make_learner_folder(tmp_path / corpus, model, tokenizer, corpus=corpus, seed=seed, plot=True,
                                     metrics={"test_perplexity_standard": 40.0, "test_perplexity_igf": 30.0 + seed,
                                              "test_spearman": 0.5})
        tiny_png(folder / "assets" / "perplexity.png")
        registry.publish(folder, version="1.0.0", store=tmp_path / "store")

    with running_server(create_app(tmp_path / "store")) as url:
        browser.get(url + "/")
        assert len(browser.find_elements(By.CSS_SELECTOR, "a.learner-link")) == 3
        box = browser.find_element(By.ID, "search")
        box.send_keys("pydocs")
        click_and_wait_for_new_page(browser, browser.find_element(By.ID, "search-button"))
        links = browser.find_elements(By.CSS_SELECTOR, "a.learner-link")
        assert [link.text for link in links] == ["local/igf-gpt2-pydocs"]
        assert browser.find_element(By.ID, "count").text == "1 learner"
        click_and_wait_for_new_page(browser, links[0])

        assert browser.find_element(By.ID, "learner-name").text.startswith("local/igf-gpt2-pydocs")
        score = browser.find_element(By.CSS_SELECTOR, 'td.metric-value[data-metric="perplexity_ratio"]')
        assert score.text == "0.775"  # 31 / 40
        plot = browser.find_element(By.ID, "plot")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot) == 2
        assert "information-gain learner" in browser.find_element(By.ID, "card").text
        assert browser.find_element(By.CSS_SELECTOR, "#versions td a").text == "1.0.0"
        browser.save_screenshot(str(tmp_path / "learner-page.png"))

        click_and_wait_for_new_page(browser, browser.find_element(By.LINK_TEXT, "leaderboard"))
        rows = browser.find_elements(By.CSS_SELECTOR, "#leaderboard tr")
        assert len(rows) == 2 and "local/igf-gpt2-pydocs" in rows[1].text
    assert (tmp_path / "learner-page.png").stat().st_size > 1000


def test_learner_page_leads_with_use_box_effect_warning_and_plot(tmp_path, tokenizer, browser):
    from registry_helpers import evaluation_record
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    model = make_tiny_gpt2(tokenizer)
    good = make_learner_folder(tmp_path / "good", model, tokenizer, corpus="kjv", seed=0, plot=True,
                               metrics={"test_spearman": 0.8}, evaluations=[evaluation_record(0.93, (0.90, 0.95))])
    tiny_png(good / "assets" / "eval_plot.png")
    bad = make_learner_folder(tmp_path / "bad", model, tokenizer, corpus="kjv", seed=1, plot=True,
                              metrics={"test_spearman": -0.43})
    registry.publish(good, version="1.0.0", store=tmp_path / "store", org="good")
    registry.publish(bad, version="1.0.0", store=tmp_path / "store", org="bad")

    with running_server(create_app(tmp_path / "store")) as url:
        browser.get(url + "/")
        names = [link.text for link in browser.find_elements(By.CSS_SELECTOR, "a.learner-link")]
        assert names == ["good/igf-gpt2-kjv", "bad/igf-gpt2-kjv"]   # evaluated first, whatever the name
        browser.get(url + "/learners/good/igf-gpt2-kjv")
        effect = browser.find_element(By.ID, "effect").text
        assert "ratio 0.930 [95% CI 0.900-0.950]" in effect and "target kjv, pool kjv+pydocs" in effect
        snippet = browser.find_element(By.ID, "use-python")
        assert 'registry.pull("kjv", base_model="tiny/gpt2", version="1.0.0"' in snippet.text
        assert "FilteredDataset(train_dataset" in snippet.text and "data.callback" in snippet.text
        assert snippet.location["y"] + snippet.size["height"] < 1400      # above the fold
        assert browser.find_element(By.ID, "plot").get_attribute("src").endswith("assets/eval_plot.png")
        assert browser.find_element(By.ID, "plot").location["y"] < 1400
        copy = browser.find_element(By.CSS_SELECTOR, 'button.copy[data-target="use-cli"]')
        copy.click()   # the clipboard answers asynchronously: wait for the button to say so
        WebDriverWait(browser, 10).until(lambda _: copy.text == "copied")
        browser.save_screenshot(str(tmp_path / "evaluated.png"))

        browser.get(url + "/learners/bad/igf-gpt2-kjv")
        warnings = [w.text for w in browser.find_elements(By.CSS_SELECTOR, "#use .warning")]
        assert any("held-out Spearman is -0.43" in w for w in warnings)
        assert any("No fine-tuning evaluation is recorded" in w for w in warnings)
        assert browser.find_element(By.CSS_SELECTOR, "#use .warning").is_displayed()
    assert (tmp_path / "evaluated.png").stat().st_size > 1000
