"""A Cognito user pool in an emulator, for the smoke run: a shoppers' app client, the `admin`
group, a shopper and an admin with permanent passwords. Prints shell assignments the smoke step
evaluates: the pool's issuer and key set URL, the client id, the users and their passwords.

Usage: python3 .ci/cognito.py http://127.0.0.1:5000
"""

import secrets
import sys

import boto3

endpoint = sys.argv[1].rstrip("/")
region = "us-east-1"
idp = boto3.client(
    "cognito-idp",
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id="smoke",
    aws_secret_access_key="smoke",
)
pool = idp.create_user_pool(PoolName="stateless-shop-smoke")["UserPool"]["Id"]
client = idp.create_user_pool_client(
    UserPoolId=pool,
    ClientName="shoppers",
    GenerateSecret=False,
    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]["ClientId"]
idp.create_group(UserPoolId=pool, GroupName="admin")
password = "Smoke-" + secrets.token_urlsafe(12) + "1a!"
for user in ("smoke-shopper", "smoke-admin"):
    idp.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool, Username=user, Password=password, Permanent=True
    )
idp.admin_add_user_to_group(UserPoolId=pool, Username="smoke-admin", GroupName="admin")

print(f"export JWT_ISSUER=https://cognito-idp.{region}.amazonaws.com/{pool}")
print(f"export JWKS_URL={endpoint}/{pool}/.well-known/jwks.json")
print(f"export JWT_AUDIENCE={client}")
print(f"export SMOKE_COGNITO_ENDPOINT={endpoint}")
print(f"export SMOKE_COGNITO_CLIENT_ID={client}")
print("export SMOKE_USER=smoke-shopper SMOKE_ADMIN_USER=smoke-admin")
print(f"export SMOKE_PASSWORD='{password}' SMOKE_ADMIN_PASSWORD='{password}'")
