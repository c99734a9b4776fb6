"""greet: a function. Parameters are typed; the result is any JSON-able value."""

from scaleplane.functions.handlers import FunctionError


def main(name: str, excited: bool = False) -> dict[str, str]:
    if not name:
        raise FunctionError("name must not be empty", status=422, code="EmptyName")
    return {"greeting": f"hello {name}" + ("!" if excited else "")}
