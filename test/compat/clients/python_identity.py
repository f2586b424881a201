"""A real Python application: Debian's azure-identity with only the environment podid's webhook injects.

Usage: python3 python_identity.py <scope> [mi|default] [clientId=<id>|resourceId=<id>|objectId=<id>]. Prints the token.
"""
import sys

from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

scope = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "mi"
kind, _, value = (sys.argv[3] if len(sys.argv) > 3 else "").partition("=")
if mode == "default":
    credential = DefaultAzureCredential(managed_identity_client_id=value if kind == "clientId" else None)
elif kind == "clientId":
    credential = ManagedIdentityCredential(client_id=value)
elif kind == "resourceId":
    credential = ManagedIdentityCredential(identity_config={"mi_res_id": value})
elif kind == "objectId":
    credential = ManagedIdentityCredential(identity_config={"object_id": value})
else:
    credential = ManagedIdentityCredential()
sys.stdout.write(credential.get_token(scope).token)
