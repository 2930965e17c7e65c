"""The web console, driven in Debian's Chromium by Selenium (run by scripts/console-test).

One operator's day: sign in with an API key, create a campaign from a CSV with a column mapping,
watch it complete live, open a call and play its recording, export CSV, pause a campaign, add a
suppression, sign out. Then the boundaries: a member cannot see another user's campaign, and a
form posted without the CSRF token is refused. Every page is photographed into --artifacts.
"""

import argparse
import csv
import io
import json
import os
import re
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--trunk-port", type=int, required=True)
    parser.add_argument("--leads", required=True, help="the numbers baresip answers as, space-separated")
    parser.add_argument("--artifacts", required=True)
    return parser.parse_args()


ARGS = parse_args()
SHOTS = []


def api(method, path, key, body=None):
    """The JSON API, for what the test sets up around the console (agents, numbers, keys)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(ARGS.url + path, data=data, method=method,
                                     headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shot(driver, name):
    path = os.path.join(ARGS.artifacts, f"{len(SHOTS) + 1:02d}-{name}.png")
    driver.save_screenshot(path)
    SHOTS.append(path)


def wait(driver, condition, seconds=30, what="condition"):
    # A click that submits a form leaves the old page's elements in hand until the next page
    # replaces them: reading one then is stale, and the condition is asked again, not failed.
    # Reading while the old page unloads can fail in the driver itself (a plain
    # WebDriverException, seen once in CI on the suppressions page): asked again too. A page
    # that never gets there still fails, by the clock.
    ignored = (NoSuchElementException, StaleElementReferenceException, WebDriverException)
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=ignored).until(condition)
    except Exception as error:
        shot(driver, "failure")
        # What the page said then: an error page, or a status other than the one awaited.
        body = driver.execute_script("return document.body ? document.body.innerText : document.documentElement.outerHTML;")
        print(f"--- the page at {driver.current_url}:\n{body[:3000]}", file=sys.stderr)
        failure = f"timed out waiting for {what}" if isinstance(error, TimeoutException) else f"{type(error).__name__} ({error}) while waiting for {what}"
        raise AssertionError(f"{failure} on {driver.current_url}") from error


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def text(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def sign_in(driver, key):
    driver.get(ARGS.url + "/")
    wait(driver, EC.url_contains("/sign-in"), what="the redirect to sign-in")
    driver.find_element(By.ID, "api-key").send_keys(key)
    driver.find_element(By.ID, "sign-in").click()
    wait(driver, EC.presence_of_element_located((By.ID, "voice-campaigns")), what="the campaigns page")


def same_origin_fetch(driver, method, path, body=None):
    """A request from the page itself (its cookie goes along): status, content type and text."""
    return driver.execute_async_script("""
        const [method, path, body, done] = arguments;
        const init = {method, credentials: "same-origin"};
        if (body !== null) { init.body = body; init.headers = {"Content-Type": "application/x-www-form-urlencoded"}; }
        fetch(path, init).then(async r => done({status: r.status, type: r.headers.get("content-type"), text: await r.text()}))
                         .catch(e => done({status: 0, type: "", text: String(e)}));
    """, method, path, body)


def main():
    leads = ARGS.leads.split()
    admin = ARGS.admin_key
    # What a campaign needs, made with the API: a voice agent, and a number on the SIP trunk
    # that baresip plays. The agent's greeting is long enough for the calls to take a while.
    api("POST", "/v1/agents", admin, {"agent_id": "caller", "agent_type": "voice", "agent_name": "Caller", "prompt": "Be brief.",
                                      "starting_message": "Hello {{first_name}}, this is Acme calling about your solar quote. "
                                                          "We will call you again soon. Goodbye."})
    api("POST", "/v1/voice/phone-numbers/create", admin, {"phone_number": "+15175550100", "provider": "sip_trunk",
                                                          "settings": {"host": "127.0.0.1", "port": ARGS.trunk_port}})

    directory = tempfile.mkdtemp()
    upload = os.path.join(directory, "leads.csv")
    with open(upload, "w", newline="") as file:
        writer = csv.writer(file)
        # "Cell" is no name the importer knows: the mapping says it is the phone number.
        writer.writerow(["Cell", "First Name", "Notes"])
        for index, lead in enumerate(leads):
            writer.writerow([lead, ["Ann", "Bo", "Cy"][index % 3], "secret note"])
        writer.writerow(["not-a-number", "Dee", ""])

    driver = browser()
    try:
        # Sign in.
        driver.get(ARGS.url + "/")
        wait(driver, EC.url_contains("/sign-in"), what="the redirect to sign-in")
        shot(driver, "sign-in")
        sign_in(driver, admin)
        check(not any(c["name"] == "switchboard_session" and not c.get("httpOnly") for c in driver.get_cookies()),
              "the session cookie must be HttpOnly")
        check("acme" in text(driver, "header"), "the header names the organization")
        check(admin not in driver.page_source, "the key must not appear in a page")

        # A campaign from the CSV: upload, map, preview, start.
        driver.get(ARGS.url + "/campaigns/new")
        shot(driver, "campaign-upload")
        driver.find_element(By.ID, "csv-file").send_keys(upload)
        driver.find_element(By.ID, "upload").click()
        wait(driver, EC.presence_of_element_located((By.ID, "mapping")), what="the column mapping")
        driver.find_element(By.CSS_SELECTOR, 'input[name="phone_column"][value="Cell"]').click()
        notes = driver.find_element(By.CSS_SELECTOR, 'input[name="field:Notes"]')
        if notes.is_selected():
            notes.click()
        driver.find_element(By.ID, "campaign-name").send_keys("Solar follow-up")
        for field, value in [("hours-start", "00:00"), ("hours-end", "24:00"), ("max-concurrent", "1")]:
            element = driver.find_element(By.ID, field)
            element.clear()
            element.send_keys(value)
        for box in driver.find_elements(By.CSS_SELECTOR, 'input[name="days"]'):
            if not box.is_selected():
                box.click()
        driver.find_element(By.ID, "preview").click()
        wait(driver, EC.presence_of_element_located((By.ID, "preview-result")), what="the preview")
        check(text(driver, "#preview-valid") == str(len(leads)), f"valid leads: {text(driver, '#preview-valid')}")
        check(text(driver, "#preview-invalid") == "1", f"invalid leads: {text(driver, '#preview-invalid')}")
        check("not-a-number" in text(driver, "#invalid-rows"), "the invalid row is listed with its reason")
        check("secret note" not in text(driver, "#preview-result"), "an unmapped column is not a field")
        check("first_name=Ann" in text(driver, "#preview-result"), f"the mapped field: {text(driver, '#preview-result')}")
        shot(driver, "campaign-mapping-preview")
        driver.find_element(By.ID, "start").click()

        # Watch it complete live: the counts change on the open page (server-sent events), and
        # the page reloads itself once the campaign is done.
        wait(driver, EC.url_matches(r"/campaigns/voice_campaign_"), what="the new campaign's page")
        campaign_url = driver.current_url
        campaign_id = campaign_url.rsplit("/", 1)[1]
        driver.execute_script("window.sameDocument = true;")
        shot(driver, "campaign-dialing")
        wait(driver, lambda d: d.execute_script("return window.sameDocument === true") and text(d, "#count-completed") not in ("", "0"),
             seconds=60, what="a completed call shown without reloading")
        shot(driver, "campaign-live")
        wait(driver, lambda d: text(d, "#status").startswith("completed") and d.find_elements(By.CSS_SELECTOR, "#calls a"),
             seconds=90, what="the campaign to complete")
        check(text(driver, "#count-completed") == str(len(leads)), f"completed: {text(driver, '#count-completed')}")
        check("completed" in driver.find_element(By.ID, "chart").get_attribute("innerHTML"), "the outcome chart shows completed calls")
        shot(driver, "campaign-completed")

        # CSV exports, through the buttons' links.
        calls_csv = same_origin_fetch(driver, "GET", driver.find_element(By.ID, "export-calls").get_attribute("href"))
        check(calls_csv["status"] == 200 and calls_csv["type"].startswith("text/csv"), f"calls export: {calls_csv['status']} {calls_csv['type']}")
        rows = list(csv.DictReader(io.StringIO(calls_csv["text"])))
        check(len(rows) == len(leads) and all(r["outcome"] == "completed" for r in rows), f"calls export rows: {rows}")
        failed_csv = same_origin_fetch(driver, "GET", driver.find_element(By.ID, "export-failed").get_attribute("href"))
        check(failed_csv["status"] == 200 and failed_csv["text"].startswith("phone_number,"), f"failed-numbers export: {failed_csv}")
        leads_csv = same_origin_fetch(driver, "GET", driver.find_element(By.ID, "export-recipients").get_attribute("href"))
        check(leads_csv["status"] == 200 and len(list(csv.DictReader(io.StringIO(leads_csv["text"])))) == len(leads), f"leads export: {leads_csv}")

        # A call: its timeline, transcript and recording, which plays.
        driver.find_element(By.CSS_SELECTOR, "#calls a").click()
        wait(driver, EC.presence_of_element_located((By.ID, "attempts")), what="the call page")
        # The greeting names the lead from its mapped "First Name" column.
        check(re.search(r"Hello (Ann|Bo|Cy), this is Acme calling", text(driver, "#transcript")), f"transcript: {text(driver, '#transcript')}")
        audio = wait(driver, EC.presence_of_element_located((By.ID, "recording")), what="the recording player")
        driver.execute_script("arguments[0].play();", audio)
        wait(driver, lambda d: d.execute_script("const a = arguments[0]; return a.duration > 1 && a.currentTime > 0.2;", audio),
             seconds=20, what="the recording to play")
        shot(driver, "call")

        # Pause a campaign that is waiting to dial (it starts tomorrow).
        tomorrow = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86_400))
        waiting = api("POST", "/v1/voice/campaigns", admin, {
            "campaign_name": "Tomorrow", "voice_agent_id": "caller", "agent_outbound_number": "+15175550100",
            "campaign_begin_time": tomorrow, "leads": [{"phone_number": leads[0]}]})["campaign_id"]
        driver.get(f"{ARGS.url}/campaigns/{waiting}")
        driver.find_element(By.ID, "pause").click()
        wait(driver, lambda d: text(d, "#status").startswith("paused"), what="the campaign to be paused")
        check(driver.find_elements(By.ID, "resume"), "a paused campaign offers resume")
        shot(driver, "campaign-paused")

        # A form posted without its CSRF token is refused, and changes nothing.
        refused = same_origin_fetch(driver, "POST", f"/campaigns/{waiting}/resume", "")
        check(refused["status"] == 403, f"a post without the CSRF token: {refused['status']}")
        forged = same_origin_fetch(driver, "POST", f"/campaigns/{waiting}/resume", "csrf=forged")
        check(forged["status"] == 403, f"a post with a wrong CSRF token: {forged['status']}")
        driver.refresh()
        check(text(driver, "#status").startswith("paused"), "the refused posts changed nothing")

        # The campaign list, with both.
        driver.get(ARGS.url + "/")
        check(campaign_id in driver.page_source and waiting in driver.page_source, "both campaigns are listed")
        shot(driver, "campaigns")

        # A suppression.
        driver.get(ARGS.url + "/suppressions")
        driver.find_element(By.ID, "suppression-value").send_keys("+15550009999")
        driver.find_element(By.ID, "suppression-reason").send_keys("asked not to be called")
        driver.find_element(By.ID, "add-suppression-button").click()
        wait(driver, lambda d: "+15550009999" in text(d, "#suppressions"), what="the suppression listed")
        check("added" in text(driver, ".notice"), "the page says it was added")
        shot(driver, "suppressions")

        # The other pages: agents, numbers, webhooks, API keys (a key created is shown once).
        for page, marker in [("agents", "caller"), ("numbers", "+15175550100"), ("webhooks", "webhooks")]:
            driver.get(f"{ARGS.url}/{page}")
            check(marker in driver.page_source, f"/{page} shows {marker}")
            shot(driver, page)
        driver.get(ARGS.url + "/keys")
        form = driver.find_element(By.ID, "create-key")
        form.find_element(By.NAME, "user_id").send_keys("carol")
        form.find_element(By.TAG_NAME, "button").click()
        member_key = wait(driver, EC.presence_of_element_located((By.ID, "new-key")), what="the new key").text
        check(member_key.startswith("sb_"), f"the new key: {member_key}")
        shot(driver, "keys")

        # Sign out: the session ends, pages ask to sign in again.
        driver.find_element(By.ID, "sign-out").click()
        wait(driver, EC.url_contains("/sign-in"), what="the sign-in page after signing out")
        driver.get(f"{ARGS.url}/campaigns/{campaign_id}")
        wait(driver, EC.url_contains("/sign-in"), what="a page to need signing in again")

        # A member sees their own work only: not alice's campaign, in the list or by its address.
        sign_in(driver, member_key)
        check(campaign_id not in driver.page_source, "a member's list does not show another user's campaign")
        driver.get(f"{ARGS.url}/campaigns/{campaign_id}")
        check("another user" in text(driver, "main") and campaign_id not in text(driver, "main"),
              f"a member opening another user's campaign: {text(driver, 'main')}")
        shot(driver, "member-refused")
        driver.get(f"{ARGS.url}/keys")
        check("admin" in text(driver, "main"), "a member cannot manage keys")
    except Exception:
        shot(driver, "failure")
        raise
    finally:
        driver.quit()
    print(f"console-test: passed; {len(SHOTS)} screenshots in {ARGS.artifacts}")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"console-test: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
