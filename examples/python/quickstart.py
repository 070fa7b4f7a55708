import requests, smartretry

engine = smartretry.Engine(deadline=120)  # policy as kwargs, a dict, or JSON text

@smartretry.retry(key="payments", on=requests.RequestException, engine=engine)
def charge(order_id: str) -> dict:
    r = requests.post(f"https://pay.example/charge/{order_id}", timeout=5)
    r.raise_for_status()  # 503 / 429 + Retry-After are what the engine learns from
    return r.json()

# What would it do for a 503, and why? (executes nothing)
for rec in engine.preview("payments", smartretry.Failure.http(503), steps=3):
    print(rec)  # retry in 2.7 s [heuristic] unavailable: full jitter backoff while learning ...
