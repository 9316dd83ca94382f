"""Drives headless Debian chromium (through /usr/bin/chromedriver) over a running explorer.

Checks that the page loads and goes live, that the subnet's metagraph table shows exactly the
expected number of rows, that the emission chart renders (a uPlot canvas with drawn pixels and
at least two epochs of data), that sorting the table works, and that a neuron page shows its
explain receipt. Saves a screenshot of each page. Exits non-zero on the first failure.
"""

import argparse
import os
import sys

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 60
SCREENSHOTS = "."

# The first chart's epoch count and how many of its canvas pixels are drawn (not transparent):
# a rendered chart has thousands.
CHART_STATE = """
const box = document.querySelector('.chart[data-points]');
if (!box) return null;
const points = Number(box.dataset.points);
const canvas = box.querySelector('canvas');
if (!canvas || !canvas.width || !canvas.height) return [points, 0];
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let ink = 0;
for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) ink++;
return [points, ink];
"""

# Every row of a table as lists of cell texts, read at once (the page re-renders on new blocks).
TABLE_CELLS = """
return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)]
    .map(tr => [...tr.cells].map(td => td.textContent));
"""


def click(driver, css):
    try:
        driver.find_element(By.CSS_SELECTOR, css).click()
        return True
    except (StaleElementReferenceException, NoSuchElementException):
        return False


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", "--window-size=1400,1600"):
        options.add_argument(flag)
    # An explicit driver path: selenium must not try to download one.
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def fail(driver, message):
    """Saves what the browser shows (failure.png) and exits non-zero."""
    try:
        driver.save_screenshot(os.path.join(SCREENSHOTS, "failure.png"))
    finally:
        sys.exit(f"FAIL: {message}")


def wait_for(driver, what, condition):
    try:
        wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
        return wait.until(lambda d: condition(d))
    except TimeoutException:
        errors = driver.find_elements(By.CSS_SELECTOR, "#app .error")
        detail = errors[0].text if errors else ""
        fail(driver, f"timed out after {WAIT_S} s waiting for {what}. {detail}")


def check(driver, condition, message):
    if not condition:
        fail(driver, message)


def open_view(driver, url, view):
    driver.get(url)
    wait_for(driver, f"the {view} view",
             lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1"
             and d.find_element(By.TAG_NAME, "body").get_attribute("data-view") == view)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the explorer, http://127.0.0.1:PORT/")
    parser.add_argument("--netuid", type=int, required=True)
    parser.add_argument("--neurons", type=int, required=True, help="expected metagraph rows")
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    global SCREENSHOTS
    SCREENSHOTS = args.screenshots
    base = args.url.rstrip("/")
    driver = browser()
    try:
        # The chain view: heads, subnets, recent blocks, and the live socket connected.
        open_view(driver, f"{base}/#/", "chain")
        wait_for(driver, "the live indicator", lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
        wait_for(driver, "a best block number",
                 lambda d: d.find_element(By.ID, "best-number").text.replace(",", "").isdigit())
        first = int(driver.find_element(By.ID, "best-number").text.replace(",", ""))
        wait_for(driver, "a live head update",
                 lambda d: int(d.find_element(By.ID, "best-number").text.replace(",", "") or 0) > first)
        check(driver, driver.find_elements(By.CSS_SELECTOR, "#subnets tbody tr"), "no subnets listed")
        wait_for(driver, "recent blocks", lambda d: d.find_elements(By.CSS_SELECTOR, "#recent-blocks tbody tr"))
        check(driver, driver.find_element(By.ID, "no-training").text == "no training subnet",
              "the chain view should say there is no training subnet")
        driver.save_screenshot(os.path.join(args.screenshots, "chain.png"))

        # The subnet view: the metagraph rows and a chart with at least two epochs drawn.
        # The page refreshes itself on new blocks, so tables are read in one script call.
        open_view(driver, f"{base}/#/subnet/{args.netuid}", "subnet")
        rows = driver.execute_script(TABLE_CELLS, "metagraph")
        check(driver, len(rows) == args.neurons, f"metagraph shows {len(rows)} rows, expected {args.neurons}")
        headers = driver.execute_script(
            "return [...document.querySelectorAll('#metagraph thead th')].map(th => th.textContent)")
        for column in ("uid", "role", "stake (α)", "incentive", "dividends", "emission (α)",
                       "v. trust", "last update", "axon"):
            check(driver, column in headers, f"metagraph column {column!r} missing from {headers}")

        def chart_drawn(d):
            state = d.execute_script(CHART_STATE)
            return state if state and state[0] >= 2 and state[1] > 1000 else False

        drawn = wait_for(driver, "an emission chart with two epochs drawn", chart_drawn)
        points, ink = drawn
        roles = [row[1] for row in rows]
        check(driver, "validator" in roles and "miner" in roles, f"roles {roles}")

        # Sorting: one click on the uid header sorts it descending (the default is ascending).
        wait_for(driver, "a click on the uid header", lambda d: click(d, "#metagraph thead th"))

        def sorted_descending(d):
            uids = [int(row[0]) for row in d.execute_script(TABLE_CELLS, "metagraph")]
            return len(uids) == args.neurons and uids == sorted(uids, reverse=True)

        wait_for(driver, "uids sorted descending", sorted_descending)
        driver.save_screenshot(os.path.join(args.screenshots, "subnet.png"))

        # A neuron page with its explain receipt.
        open_view(driver, f"{base}/#/subnet/{args.netuid}/neuron/1", "neuron")
        wait_for(driver, "the explain receipt", lambda d: d.find_elements(By.ID, "explain"))
        driver.save_screenshot(os.path.join(args.screenshots, "neuron.png"))
        print(f"ok: {len(rows)} metagraph rows, chart with {points} epochs ({ink} drawn pixels), "
              f"roles {roles}, explain receipt shown")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
