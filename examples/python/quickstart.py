import smartretry

engine = smartretry.Engine(deadline=120)  # policy as kwargs, a dict, or JSON text

@smartretry.retry(key="payments", on=ConnectionError, engine=engine)
def charge(order_id: str) -> str:
    # call the payment API here; requests/httpx errors pass their status and Retry-After
    return f"charged {order_id}"

print(charge("A-17"))
for rec in engine.preview("payments", smartretry.Failure.http(503), steps=3):
    print(rec)  # retry in 2.8 s [heuristic] unavailable: full jitter backoff, retry 1
