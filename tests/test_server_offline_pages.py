"""The server's pages for people work with no network and fail kindly: /docs and /redoc load Swagger UI and
ReDoc from the server itself (a real Chromium renders them), and a browser gets an HTML error page with a way
back and a "did you mean" for a mistyped learner, while API and Hub routes keep their JSON errors."""

from __future__ import annotations

import re

import httpx
import pytest
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401
from test_server_web import browser  # noqa: F401 (the Chromium fixture)

import registry
from server import create_app
from server.testing import running_server

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}   # what Chromium sends


@pytest.fixture()
def served(tmp_path, tiny_gpt2, tokenizer):
    registry.publish(make_learner_folder(tmp_path / "kjv", tiny_gpt2, tokenizer), version="1.0.0",
                     store=tmp_path / "store")
    with running_server(create_app(tmp_path / "store")) as url, httpx.Client(base_url=url) as client:
        yield url, client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_their_assets_from_the_server_itself(served, page):
    _, client = served
    html = client.get(page).text
    assert not re.findall(r"https?://", html)                 # no CDN, no Google fonts: nothing off this server
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts and all(a.startswith("/static/docs/") for a in assets)
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 100
    assert "javascript" in client.get(scripts[0]).headers["content-type"]


def test_swagger_ui_renders_offline_in_chromium(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = served
    browser.get(url + "/docs")
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
    assert "/api/learners" in browser.find_element(By.CSS_SELECTOR, ".swagger-ui").text


def test_a_browser_gets_an_html_404_with_did_you_mean_and_a_way_back(served, browser):
    from selenium.webdriver.common.by import By

    url, client = served
    page = client.get("/learners/local/igf-gpt2-kvj", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-error-code"] == "RepoNotFound"
    browser.get(url + "/learners/local/igf-gpt2-kvj")
    assert browser.find_element(By.ID, "error-title").text == "404 · Not found"
    assert "local/igf-gpt2-kvj not found" in browser.find_element(By.ID, "error-message").text
    suggestion = browser.find_element(By.CSS_SELECTOR, "#did-you-mean a.suggestion")
    assert suggestion.text == "local/igf-gpt2-kjv"
    suggestion.click()
    assert browser.find_element(By.ID, "learner-name").text.startswith("local/igf-gpt2-kjv")
    browser.get(url + "/no/such/page/here")
    assert "There is no page at /no/such/page/here." in browser.find_element(By.ID, "error-message").text
    assert browser.find_element(By.ID, "back").get_attribute("href") == url + "/"


def test_api_and_hub_routes_keep_their_json_errors_even_for_a_browser(served):
    _, client = served
    for path in ("/api/learners/local/nothing", "/api/models/local/nothing",
                 "/local/igf-gpt2-kjv/resolve/main/no-such-file"):
        for headers in ({}, HTML):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
            assert answer.headers["x-error-code"] in ("RepoNotFound", "EntryNotFound") and "error" in answer.json()
    plain = client.get("/learners/local/nothing")          # a script without Accept: text/html gets JSON too
    assert plain.status_code == 404 and plain.json()["error"].startswith("Repository local/nothing not found")


def test_did_you_mean_never_names_a_private_learner(tmp_path, tiny_gpt2, tokenizer):
    for seed, org in enumerate(("local", "secret")):
        registry.publish(make_learner_folder(tmp_path / org, tiny_gpt2, tokenizer, seed=seed), version="1.0.0",
                         org=org, store=tmp_path / "store")
    (tmp_path / "store/models/secret/igf-gpt2-kjv/learnerhub-private").touch()
    with running_server(create_app(tmp_path / "store", tokens=["t"])) as url:
        anonymous = httpx.get(url + "/learners/secret/igf-gpt2-kvj", headers=HTML)
        assert anonymous.status_code == 404 and "local/igf-gpt2-kjv" in anonymous.text
        assert "secret/igf-gpt2-kjv" not in anonymous.text
        with_token = httpx.get(url + "/learners/secret/igf-gpt2-kvj", headers={**HTML, "Authorization": "Bearer t"})
        assert 'href="/learners/secret/igf-gpt2-kjv"' in with_token.text
