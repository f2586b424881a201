"""An application on msrestazure (what Azure CLI 2.45's `az login --identity` uses): a managed identity token
with only the environment podid's webhook injects. msrestazure reads MSI_ENDPOINT, not IDENTITY_ENDPOINT.

Usage: python3 python_msrestazure.py <resource> [clientId=<id>|resourceId=<id>]. Prints the token.
"""
import sys

from msrestazure.azure_active_directory import MSIAuthentication

resource = sys.argv[1]
kind, _, value = (sys.argv[2] if len(sys.argv) > 2 else "").partition("=")
names = {"clientId": "client_id", "resourceId": "msi_res_id", "objectId": "object_id"}
selector = {names[kind]: value} if kind in names else {}
sys.stdout.write(MSIAuthentication(resource=resource, **selector).token["access_token"])
