"""Adopting smartretry without a rewrite: tenacity, backoff and urllib3/requests."""

import backoff
import requests
import tenacity
from requests.adapters import HTTPAdapter

import smartretry
import smartretry.backoff as sb
from smartretry.tenacity import adaptive, wait_adaptive
from smartretry.urllib3 import AdaptiveRetry

engine = smartretry.Engine()


# tenacity: the engine decides whether, and when, to retry (and learns from successes)
@tenacity.retry(**adaptive(engine, key="inventory"))
def reserve(sku: str) -> None: ...


# ... or only the wait, keeping your own stop/retry
@tenacity.retry(wait=wait_adaptive(engine, key="search"), stop=tenacity.stop_after_attempt(5))
def search(q: str) -> None: ...


# backoff: a wait generator that asks the engine (no extra jitter: the engine's delays are jittered)
@backoff.on_exception(sb.wait_adaptive, requests.RequestException, jitter=None,
                      on_success=sb.on_success, engine=engine, key="billing")
def bill(account: str) -> None: ...


# urllib3 / requests: a Retry whose backoff and Retry-After handling ask the engine
session = requests.Session()
session.mount("https://", HTTPAdapter(max_retries=AdaptiveRetry(engine=engine, key="partner-api")))

if __name__ == "__main__":
    with smartretry.testing():
        print(engine.preview("partner-api", smartretry.Failure.http(429, retry_after="30"), steps=2))
