"""What the operator's resources look like, as data: CRDs, RBAC, and a Function's children.

Rule: pure (bodies in, bodies out): no kopf, no Kubernetes client, no asyncio, nothing else of the
operator. The handlers apply these bodies; the CLI writes them to operator/*.yaml.

    crds          the CustomResourceDefinitions, generated from the spec models (`python -m ...crds`)
    schemas       a pydantic JSON schema turned into a Kubernetes structural OpenAPI schema
    functions     the Function resource's spec, and the Deployment, Service and policy built from it
    permissions   the operator's RBAC rules, once, and both install modes built from them
"""
