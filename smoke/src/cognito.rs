//! Tokens from a Cognito user pool: `InitiateAuth` with a user's name and password
//! (`USER_PASSWORD_AUTH`, which the template's shopper client allows). A public client needs no
//! AWS credentials for it; the answer's access token is what the API takes.

use crate::Client;
use serde_json::json;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where a user pool's API is: `https://cognito-idp.<region>.amazonaws.com` on AWS, or an
/// emulator's URL.
pub fn endpoint(region: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com")
}

/// The access token of `username` signing in with `password` through the app client
/// `client_id` (one without a secret).
pub async fn access_token(
    endpoint: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<String, BoxError> {
    let client = Client::new(endpoint)?;
    let body = json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"USERNAME": username, "PASSWORD": password},
    });
    let answer = client
        .send(
            "POST",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                (
                    "x-amz-target",
                    "AWSCognitoIdentityProviderService.InitiateAuth",
                ),
            ],
            Some(body.to_string()),
        )
        .await?;
    if answer.status != 200 {
        // The body names Cognito's error (NotAuthorizedException, …); it never holds a token.
        return Err(format!(
            "signing in {username} at {endpoint} answered {}: {}",
            answer.status, answer.body
        )
        .into());
    }
    let json = answer.json()?;
    if json.get("ChallengeName").is_some() {
        return Err(format!(
            "{username} must answer the challenge {} first (a new user's password change?): sign in once with the AWS CLI, or set a permanent password with `aws cognito-idp admin-set-user-password --permanent`",
            json["ChallengeName"]
        )
        .into());
    }
    json["AuthenticationResult"]["AccessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the sign-in answer holds no access token".into())
}
