"""A local AWS Price List API (`AWSPriceListService.GetProducts`) answering in the documented shape.

The real service speaks JSON 1.1 over POST: the target header names the operation, the body carries
`ServiceCode`, `Filters` ([{Type, Field, Value}]) and `FormatVersion`; the answer is
`{"FormatVersion": "aws_v1", "PriceList": [<one JSON document per product, as a string>]}`, each
document holding `product.attributes`, `product.sku`, `serviceCode` and `terms.OnDemand` with
`priceDimensions[].pricePerUnit.USD`. Filters work as the API documents them: TERM_MATCH is an exact
attribute match, CONTAINS a substring match. The server binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Offer:
    service: str
    sku: str
    attributes: dict[str, str]
    usd: str
    unit: str = "Hrs"
    effective: str = "2026-11-01T00:00:00Z"

    def document(self) -> str:
        term = f"{self.sku}.JRTCKXETXF"
        return json.dumps(
            {
                "product": {
                    "productFamily": "Compute Instance",
                    "attributes": self.attributes,
                    "sku": self.sku,
                },
                "serviceCode": self.service,
                "terms": {
                    "OnDemand": {
                        term: {
                            "priceDimensions": {
                                f"{term}.6YS6EN2CT7": {
                                    "unit": self.unit,
                                    "endRange": "Inf",
                                    "description": "on-demand",
                                    "appliesTo": [],
                                    "rateCode": f"{term}.6YS6EN2CT7",
                                    "beginRange": "0",
                                    "pricePerUnit": {"USD": self.usd},
                                }
                            },
                            "sku": self.sku,
                            "effectiveDate": self.effective,
                            "offerTermCode": "JRTCKXETXF",
                            "termAttributes": {},
                        }
                    }
                },
                "version": "20261101000000",
                "publicationDate": "2026-11-01T00:00:00Z",
            }
        )


@dataclass
class PriceListServer:
    offers: Sequence[Offer]
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(body)
        found = [
            o
            for o in self.offers
            if o.service == body.get("ServiceCode") and _matches(o, body.get("Filters", []))
        ]
        return {"FormatVersion": "aws_v1", "PriceList": [o.document() for o in found]}


def _matches(offer: Offer, filters: list[dict[str, str]]) -> bool:
    for rule in filters:
        value = offer.attributes.get(rule["Field"])
        if value is None:
            return False
        if rule["Type"] == "TERM_MATCH" and value != rule["Value"]:
            return False
        if rule["Type"] == "CONTAINS" and rule["Value"] not in value:
            return False
    return True


@contextlib.contextmanager
def serving(offers: Sequence[Offer]) -> Iterator[PriceListServer]:
    state = PriceListServer(offers)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.headers.get("X-Amz-Target") != "AWSPriceListService.GetProducts":
                self._send(400, {"__type": "InvalidParameterException", "message": "unknown operation"})
                return
            self._send(200, state.answer(body))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
