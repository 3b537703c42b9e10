"""Self-identifying provider formats (``ghp_``, ``AKIA``, ``sk_live_``, ``xoxb-``, PEM private keys, JWTs...):
the value alone decides. ``_PROVIDERS_SPEC`` is the data (one row per format); ``_provider_matches`` is the small
matcher over it, which compiles the table once, on first use."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .core import SecretMatch, _classes, _entropy, _Lazy, _match, _wordy
from .placeholders import _placeholder_token

# --------------------------------------------------------------------------------------------
# Provider formats (value alone decides)
# --------------------------------------------------------------------------------------------

_B = r"(?<![A-Za-z0-9_])"  # left boundary
_E = r"(?![A-Za-z0-9_])"  # right boundary
# Boundaries for bodies that are base64 themselves: a run inside a longer base64 blob is not a token.
_B64 = r"(?<![A-Za-z0-9_+/])"
_E64 = r"(?![A-Za-z0-9_+/=])"

# (rule, kind, regex with an optional named group "p" = the non-secret prefix shown in hints)
_PROVIDERS_SPEC: tuple[tuple[str, str, str], ...] = (
    (
        "private-key",
        "private key",
        r"(?P<p>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)[\s\S]{16,}?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)",
    ),
    ("private-key", "private key", r"(?P<p>PuTTY-User-Key-File-\d): [\s\S]{40,}"),
    ("age-secret-key", "age secret key", _B + r"(?P<p>AGE-SECRET-KEY-1)[0-9A-Z]{58}" + _E),
    (
        "aws-access-key-id",
        "AWS access key ID",
        _B + r"(?P<p>A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|AGPA)[A-Z2-7]{16}" + _E,
    ),
    (
        "aws-session-token",
        "AWS session token",
        _B + r"(?P<p>IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE|AgoJb3JpZ2luX2Vj)[A-Za-z0-9/+=]{80,}",
    ),
    ("github-token", "GitHub token", _B + r"(?P<p>gh[pousr]_)[A-Za-z0-9]{36,255}" + _E),
    ("github-token", "GitHub fine-grained personal access token", _B + r"(?P<p>github_pat_)[A-Za-z0-9_]{50,255}" + _E),
    (
        "gitlab-token",
        "GitLab token",
        _B
        + r"(?P<p>glpat-|gldt-|glrt-|glcbt-|glptt-|glft-|glffct-|glsoat-|glimt-|glagent-|gloas-|GR1348941)[A-Za-z0-9_-]{20,}"
        + r"(?:\.[0-9a-z]{9})?"  # routable tokens end in .<base36 CRC>
        + _E,
    ),
    (
        "slack-webhook",
        "Slack incoming webhook URL",
        r"(?P<p>https://hooks\.slack(?:-gov)?\.com/)(?:services|workflows|triggers)/[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]{8,}",
    ),
    (
        "slack-webhook",
        "Slack incoming webhook URL",
        r"(?<![/A-Za-z0-9.])(?P<p>hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
    ),
    ("slack-token", "Slack token", _B + r"(?P<p>xox[abpeorsc]-|xapp-)[A-Za-z0-9-]{10,}" + _E),
    (
        "discord-webhook",
        "Discord webhook URL",
        r"(?P<p>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/)\d+/[A-Za-z0-9_-]{30,}",
    ),
    (
        "teams-webhook",
        "Microsoft Teams webhook URL",
        r"(?P<p>https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/)[A-Za-z0-9@/_-]{40,}",
    ),
    (
        "stripe-secret-key",
        "Stripe secret or restricted key",
        _B + r"(?P<p>(?:sk|rk)_(?:live|test|prod)_)[A-Za-z0-9]{16,247}" + _E,
    ),
    ("stripe-webhook-secret", "Stripe webhook signing secret", _B + r"(?P<p>whsec_)[A-Za-z0-9+/=]{24,}" + _E),
    ("sendgrid-api-key", "SendGrid API key", _B + r"(?P<p>SG\.)[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}" + _E),
    ("sendgrid-api-key", "SendGrid API key", _B + r"(?P<p>SG\.)[A-Za-z0-9_.=-]{66}" + _E),
    ("twilio-api-key", "Twilio API key SID", _B + r"(?P<p>SK)[0-9a-fA-F]{32}" + _E),
    ("google-api-key", "Google API key", _B + r"(?P<p>AIza)[0-9A-Za-z_-]{35}" + _E),
    ("google-oauth-secret", "Google OAuth client secret", _B + r"(?P<p>GOCSPX-)[A-Za-z0-9_-]{28}" + _E),
    ("npm-token", "npm access token", _B + r"(?P<p>npm_)[A-Za-z0-9]{36}" + _E),
    ("pypi-token", "PyPI API token", _B + r"(?P<p>pypi-)AgE[A-Za-z0-9_-]{50,}" + _E),
    ("rubygems-token", "RubyGems API key", _B + r"(?P<p>rubygems_)[a-f0-9]{48}" + _E),
    ("docker-hub-token", "Docker Hub access token", _B + r"(?P<p>dckr_(?:pat|oat)_)[A-Za-z0-9_-]{20,}" + _E),
    ("new-relic-key", "New Relic API key", _B + r"(?P<p>NRAK-|NRAA-|NRSP-)[A-Za-z0-9]{27}" + _E),
    ("new-relic-key", "New Relic insert key", _B + r"(?P<p>NRII-)(?:[A-Za-z0-9_-]{32}|[A-Z0-9]{27})" + _E),
    ("new-relic-key", "New Relic license key", _B + r"[a-f0-9]{36}(?P<p>NRAL)" + _E),
    (
        "azure-storage-key",
        "Azure storage or Service Bus key",
        r"(?i:(?P<p>AccountKey|SharedAccessKey|SharedAccessSignature)=)(?P<s>[A-Za-z0-9+/]{30,}={0,2})",
    ),
    ("azure-client-secret", "Azure AD client secret", _B + r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}" + _E),
    ("openai-api-key", "OpenAI API key", _B + r"(?P<p>sk-(?:proj|svcacct|admin|None)-)[A-Za-z0-9_-]{40,}" + _E),
    ("openai-api-key", "OpenAI API key", _B + r"(?P<p>sk-)[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}" + _E),
    ("anthropic-api-key", "Anthropic API key", _B + r"(?P<p>sk-ant-(?:api|admin|sid)\d\d-)[A-Za-z0-9_-]{32,}" + _E),
    ("openai-api-key", "OpenAI-style API key", _B + r"(?P<p>sk-)[A-Za-z0-9]{48}" + _E),
    ("heroku-api-key", "Heroku API key", _B + r"(?P<p>HRKU-)[A-Za-z0-9_-]{20,}" + _E),
    ("mailgun-api-key", "Mailgun API key", _B + r"(?P<p>key-)[0-9a-f]{32}" + _E),
    ("mailchimp-api-key", "Mailchimp API key", _B + r"[0-9a-f]{32}(?P<p>-us\d{1,2})" + _E),
    ("brevo-api-key", "Brevo (Sendinblue) API key", _B + r"(?P<p>xkeysib-|xsmtpsib-)[a-f0-9]{64}-[A-Za-z0-9]{16}" + _E),
    ("shopify-token", "Shopify access token", _B + r"(?P<p>shp(?:at|ca|pa|ss)_)[a-fA-F0-9]{32}" + _E),
    ("digitalocean-token", "DigitalOcean token", _B + r"(?P<p>do[opr]_v1_)[a-f0-9]{64}" + _E),
    ("vault-token", "HashiCorp Vault token", _B + r"(?P<p>hv[sbr]\.)[A-Za-z0-9_-]{24,}" + _E),
    (
        "terraform-cloud-token",
        "Terraform Cloud token",
        _B + r"[A-Za-z0-9]{14}(?P<p>\.atlasv1\.)[A-Za-z0-9_=-]{60,}" + _E,
    ),
    ("doppler-token", "Doppler token", _B + r"(?P<p>dp\.(?:st|ct|pt|sa|scim|audit)\.)[A-Za-z0-9_.-]{20,}" + _E),
    ("linear-api-key", "Linear API key", _B + r"(?P<p>lin_(?:api|oauth)_)[A-Za-z0-9]{40}" + _E),
    ("atlassian-api-token", "Atlassian API token", _B + r"(?P<p>ATATT3|ATCTT3)[A-Za-z0-9_=-]{40,}" + _E),
    ("huggingface-token", "Hugging Face token", _B + r"(?P<p>hf_)[A-Za-z0-9]{34,}" + _E),
    ("databricks-token", "Databricks token", _B + r"(?P<p>dapi)[a-f0-9]{32}(?:-\d)?" + _E),
    ("postman-api-key", "Postman API key", _B + r"(?P<p>PMAK-)[a-f0-9]{24}-[a-f0-9]{34}" + _E),
    ("pulumi-token", "Pulumi access token", _B + r"(?P<p>pul-)[a-f0-9]{40}" + _E),
    ("sentry-auth-token", "Sentry auth token", _B + r"(?P<p>sntry[su]_)[A-Za-z0-9+/=_]{40,}" + _E),
    ("grafana-token", "Grafana token", _B + r"(?P<p>glc_|glsa_)[A-Za-z0-9+/=_]{32,}" + _E),
    ("telegram-bot-token", "Telegram bot token", _B + r"\d{8,10}:(?P<p>AA)[A-Za-z0-9_-]{33}" + _E),
    (
        "tailscale-key",
        "Tailscale key",
        _B + r"(?P<p>tskey-(?:auth|api|client|webhook)-)[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}" + _E,
    ),
    ("planetscale-token", "PlanetScale token", _B + r"(?P<p>pscale_(?:tkn|pw|oauth)_)[A-Za-z0-9_.-]{32,}" + _E),
    ("supabase-token", "Supabase access token", _B + r"(?P<p>sbp_)[a-f0-9]{40}" + _E),
    ("supabase-token", "Supabase secret key", _B + r"(?P<p>sb_secret_)[A-Za-z0-9_-]{20,}" + _E),
    ("buildkite-token", "Buildkite token", _B + r"(?P<p>bkua_)[a-f0-9]{40}" + _E),
    ("square-token", "Square access token", _B + r"(?P<p>sq0atp-|sq0csp-|EAAA)[A-Za-z0-9_-]{22,60}" + _E),
    (
        "paypal-braintree-token",
        "PayPal Braintree access token",
        r"(?P<p>access_token\$production\$)[a-z0-9]{16}\$[a-f0-9]{32}",
    ),
    ("dynatrace-token", "Dynatrace token", _B + r"(?P<p>dt0[a-z]\d{2}\.)[A-Z0-9]{24}\.[A-Z0-9]{64}" + _E),
    ("mapbox-secret-token", "Mapbox secret token", _B + r"(?P<p>sk\.eyJ)[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}" + _E),
    ("notion-token", "Notion integration token", _B + r"(?P<p>secret_|ntn_)[A-Za-z0-9]{43,46}" + _E),
    ("airtable-token", "Airtable personal access token", _B + r"(?P<p>pat)[A-Za-z0-9]{14}\.[a-f0-9]{64}" + _E),
    ("replicate-token", "Replicate API token", _B + r"(?P<p>r8_)[A-Za-z0-9]{37}" + _E),
    ("groq-api-key", "Groq API key", _B + r"(?P<p>gsk_)[A-Za-z0-9]{52}" + _E),
    ("xai-api-key", "xAI API key", _B + r"(?P<p>xai-)[A-Za-z0-9]{70,}" + _E),
    ("perplexity-api-key", "Perplexity API key", _B + r"(?P<p>pplx-)[A-Za-z0-9]{40,}" + _E),
    ("contentful-token", "Contentful personal access token", _B + r"(?P<p>CFPAT-)[A-Za-z0-9_-]{43}" + _E),
    ("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", _B + r"(?P<p>LTAI)[A-Za-z0-9]{12,20}" + _E),
    ("facebook-access-token", "Facebook access token", _B + r"(?P<p>EAA[A-Z][a-z]?)[A-Za-z0-9]{90,}" + _E),
    (
        "sumologic-collector-url",
        "Sumo Logic HTTP source URL",
        r"(?P<p>/receiver/v1/(?:http|otlp|logs|metrics|traces)/)[A-Za-z0-9_=+-]{40,}",
    ),
    ("loggly-token", "Loggly customer token", r"(?P<p>loggly\.com/(?:inputs|bulk)/)[0-9a-fA-F-]{32,36}"),
    (
        # the path alone, as in a fluent-bit http output whose Host is a separate option: Loggly's own grammar
        # /inputs|bulk/<customer token>/tag/<tags>/ names it without the host
        "loggly-token",
        "Loggly customer token",
        r"(?<![A-Za-z0-9_-])(?P<p>/(?:inputs|bulk)/)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/tag/)",
    ),
    ("posthog-personal-api-key", "PostHog personal API key", _B + r"(?P<p>phx_)[A-Za-z0-9]{40,}" + _E),
    ("toss-payments-secret-key", "Toss Payments secret key", _B + r"(?P<p>(?:test|live)_g?sk_)[A-Za-z0-9]{16,}" + _E),
    # Added from a review of the gitleaks rule set (and Kingfisher/TruffleHog prefixes): self-identifying formats only.
    (
        "1password-secret-key",
        "1Password secret key",
        _B + r"(?P<p>A3-)[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}" + _E,
    ),
    (
        "1password-service-account-token",
        "1Password service account token",
        _B + r"(?P<p>ops_eyJ)[A-Za-z0-9+/]{250,}={0,3}",
    ),
    ("adobe-client-secret", "Adobe client secret", _B + r"(?P<p>p8e-)[A-Za-z0-9]{32}" + _E),
    ("artifactory-api-key", "JFrog Artifactory API key", _B64 + r"(?P<p>AKCp)[A-Za-z0-9]{69}" + _E64),
    ("artifactory-reference-token", "JFrog Artifactory reference token", _B64 + r"(?P<p>cmVmd)[A-Za-z0-9]{59}" + _E64),
    (
        "authress-access-key",
        "Authress service client access key",
        _B
        + r"(?P<p>(?:sc|ext|scauth|authress)_)[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}"
        + r"\.[A-Za-z0-9+/_=-]{30,120}",
    ),
    ("clickhouse-api-secret", "ClickHouse Cloud API secret key", _B64 + r"(?P<p>4b1d)[A-Za-z0-9]{38}" + _E64),
    ("clojars-token", "Clojars deploy token", _B + r"(?P<p>CLOJARS_)[A-Za-z0-9]{60}" + _E),
    ("cloudflare-origin-ca-key", "Cloudflare Origin CA key", _B + r"(?P<p>v1\.0-)[a-f0-9]{24}-[a-f0-9]{146}" + _E),
    (
        "defined-networking-token",
        "Defined Networking API token",
        _B + r"(?P<p>dnkey-)[A-Za-z0-9_=-]{26}-[A-Za-z0-9_=-]{52}" + _E,
    ),
    ("dropbox-token", "Dropbox short-lived access token", _B + r"(?P<p>sl\.(?:u\.)?)[A-Za-z0-9_=-]{130,}" + _E),
    ("duffel-token", "Duffel API token", _B + r"(?P<p>duffel_(?:test|live)_)[A-Za-z0-9_=-]{43}" + _E),
    ("easypost-api-key", "EasyPost API key", _B64 + r"(?P<p>EZ[AT]K)[A-Za-z0-9]{54}" + _E64),
    (
        "flutterwave-secret-key",
        "Flutterwave secret or encryption key",
        _B + r"(?P<p>FLWSECK(?:_TEST)?-?)[a-hA-H0-9]{12}(?:[a-hA-H0-9]{20}-X)?" + _E,
    ),
    ("flyio-token", "Fly.io access token", _B + r"(?P<p>fo1_)[A-Za-z0-9_-]{43}" + _E),
    ("flyio-token", "Fly.io macaroon token", _B + r"(?P<p>fm1[ar]_|fm2_)[A-Za-z0-9+/]{100,}={0,3}"),
    ("frameio-token", "Frame.io API token", _B + r"(?P<p>fio-u-)[A-Za-z0-9_=-]{64}" + _E),
    ("gitlab-session-cookie", "GitLab session cookie", r"(?P<p>_gitlab_session=)[0-9a-z]{32}" + _E),
    ("grafana-token", "Grafana API key", _B + r"(?P<p>eyJrIjoi)[A-Za-z0-9]{70,400}={0,3}"),
    (
        "harness-token",
        "Harness access token",
        _B + r"(?P<p>(?:pat|sat)\.)[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}" + _E,
    ),
    ("huggingface-token", "Hugging Face organization API token", _B + r"(?P<p>api_org_)[A-Za-z]{34}" + _E),
    ("infracost-token", "Infracost API token", _B + r"(?P<p>ico-)[A-Za-z0-9]{32}" + _E),
    ("intra42-client-secret", "42 Intra client secret", _B + r"(?P<p>s-s4t2(?:ud|af)-)[a-fA-F0-9]{64}" + _E),
    ("maxmind-license-key", "MaxMind license key", _B + r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}(?P<p>_mmk)" + _E),
    ("octopus-deploy-api-key", "Octopus Deploy API key", _B + r"(?P<p>API-)[A-Z0-9]{26}" + _E),
    ("openshift-token", "OpenShift user token", _B + r"(?P<p>sha256~)[A-Za-z0-9_-]{43}" + _E),
    (
        "plaid-access-token",
        "Plaid access token",
        _B
        + r"(?P<p>access-(?:sandbox|development|production)-)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        + _E,
    ),
    ("prefect-api-key", "Prefect API key", _B + r"(?P<p>pnu_)[A-Za-z0-9]{36}" + _E),
    ("readme-api-key", "ReadMe API key", _B + r"(?P<p>rdme_)[a-z0-9]{70}" + _E),
    ("scalingo-token", "Scalingo API token", _B + r"(?P<p>tk-us-)[A-Za-z0-9_-]{48}" + _E),
    ("settlemint-token", "SettleMint access token", _B + r"(?P<p>sm_(?:aat|pat|sat)_)[A-Za-z0-9]{16}" + _E),
    ("shippo-api-key", "Shippo API token", _B + r"(?P<p>shippo_(?:live|test)_)[a-fA-F0-9]{40}" + _E),
    (
        "sourcegraph-token",
        "Sourcegraph access token",
        _B + r"(?P<p>sgp_)(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}" + _E,
    ),
    ("twitter-bearer-token", "Twitter/X bearer token", _B64 + r"(?P<p>A{22})(?!A)[A-Za-z0-9%]{80,100}" + _E64),
    ("typeform-token", "Typeform personal access token", _B + r"(?P<p>tfp_)[A-Za-z0-9_.=-]{50,64}" + _E),
    ("yandex-api-key", "Yandex Cloud API key", _B64 + r"(?P<p>AQVN)[A-Za-z0-9_-]{35,38}" + _E64),
    ("yandex-access-token", "Yandex OAuth token", _B + r"(?P<p>t1\.)[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}"),
    ("langsmith-api-key", "LangSmith API key", _B + r"(?P<p>lsv2_(?:pt|sk)_)[a-f0-9]{32}_[a-f0-9]{10}" + _E),
    ("pinecone-api-key", "Pinecone API key", _B + r"(?P<p>pcsk_)[A-Za-z0-9]{4,8}_[A-Za-z0-9]{50,90}" + _E),
    ("openrouter-api-key", "OpenRouter API key", _B + r"(?P<p>sk-or-v1-)[a-f0-9]{64}" + _E),
    (
        "azure-identifiable-key",
        "Azure identifiable API key",
        _B64 + r"[A-Za-z0-9]{52}(?P<p>JQQJ9)[A-Za-z0-9]{27}" + _E64,
    ),
    ("bitbucket-app-password", "Bitbucket app password", _B + r"(?P<p>ATBB)[A-Za-z0-9_=.-]{28,}" + _E),
    ("circleci-token", "CircleCI personal API token", _B + r"(?P<p>CCIPAT_)[A-Za-z0-9]{22}_[a-f0-9]{40}" + _E),
    ("figma-token", "Figma access token", _B + r"(?P<p>fig[dhu]_)[A-Za-z0-9_-]{40,}" + _E),
    ("resend-api-key", "Resend API key", _B + r"(?P<p>re_)[A-Za-z0-9]{8}_[A-Za-z0-9]{24}" + _E),
    ("mailersend-token", "MailerSend API token", _B + r"(?P<p>mlsn\.)[a-f0-9]{64}" + _E),
    ("netlify-token", "Netlify personal access token", _B + r"(?P<p>nfp_)[A-Za-z0-9_]{36,40}" + _E),
    ("render-api-key", "Render API key", _B + r"(?P<p>rnd_)[A-Za-z0-9]{32}" + _E),
    ("neon-api-key", "Neon API key", _B + r"(?P<p>napi_)[a-z0-9]{64}" + _E),
    ("sonarqube-token", "SonarQube token", _B + r"(?P<p>sq[upa]_)[a-f0-9]{40}" + _E),
    (
        "fcm-server-key",
        "Firebase Cloud Messaging server key",
        _B + r"(?P<p>AAAA)[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}" + _E,
    ),
    (
        "discord-bot-token",
        "Discord bot token",
        _B + r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + _E,
    ),
    (
        "langfuse-secret-key",
        "Langfuse secret key",
        _B + r"(?P<p>sk-lf-)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + _E,
    ),
    ("honeycomb-api-key", "Honeycomb API key", _B + r"(?P<p>hc[ax][im]k_)[A-Za-z0-9]{20,}" + _E),
    ("elevenlabs-api-key", "ElevenLabs API key", _B + r"(?P<p>sk_)[a-f0-9]{48}" + _E),
    ("jwt", "JSON Web Token", _B + r"(?P<p>eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}" + _E),
)

_provider_rules: list[tuple[str, str, re.Pattern[str]]] | None = None
_PROVIDER_QUICK = _Lazy(
    r"BEGIN|PuTTY|AGE-|A[KSBCIRPNG][A-Z]{2}[A-Z2-7]|IQoJ|FwoG|FQoG|AgoJ|gh[pousr]_|github_pat_|gl[a-z]+-|GR134|hooks\.slack|xox|xapp-"
    r"|discord|webhook\.office|[sr]k_(?:live|test|prod)_|whsec_|SG\.|SK[0-9a-fA-F]{32}|AIza|GOCSPX|npm_|pypi-|rubygems_|dckr_|NR[A-Z]{2}|"
    r"AccountKey|SharedAccess|Q~|sk-|HRKU|key-|-us\d|sib-|shp|_v1_|hv[sbr]\.|atlasv1|dp\.|lin_|ATATT|ATCTT|hf_|dapi|PMAK|pul-"
    r"|sntry|glc_|glsa_|:AA|tskey|pscale|sbp_|bkua_|sq0|EAA|access_token\$|dt0|secret_|ntn_|pat[A-Za-z0-9]{14}\.|r8_|gsk_|xai-|pplx-"
    r"|CFPAT|LTAI|eyJ|receiver/v1/|loggly|/tag/|phx_|_g?sk_"
    r"|A3-|A3T|ops_|p8e-|AKCp|cmVmd|\.acc[_-]|4b1d|CLOJARS_|v1\.0-|dnkey-|sl\.|duffel_|EZ[AT]K|FLWSECK|fo1_|fm[12]|fio-u-"
    r"|_gitlab_session|[ps]at\.|api_org_|ico-|s-s4t2|_mmk|API-|sha256~|access-|pnu_|rdme_|tk-us-|sm_[aps]at_|shippo_"
    r"|sgp_|A{22}|tfp_|AQVN|t1\.|lsv2_|pcsk_|JQQJ9|ATBB|CCIPAT_|fig[dhu]_|re_|mlsn\.|nfp_|rnd_|napi_|sb_secret_"
    r"|sq[upa]_|APA91b|[MNO][A-Za-z0-9_-]{23,25}\.|hc[ax][im]k_|sk_[a-f0-9]{48}"
)


def _providers() -> list[tuple[str, str, re.Pattern[str]]]:
    global _provider_rules
    if _provider_rules is None:
        _provider_rules = [(rule, kind, re.compile(rx)) for rule, kind, rx in _PROVIDERS_SPEC]
    return _provider_rules


def _jwt_is_public(token: str) -> bool:
    """Supabase-style anon keys are JWTs that are public by design (``"role": "anon"``)."""
    import base64
    import binascii
    import json

    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and data.get("role") in {"anon", "public"}


# Formats that are also used as browser-side keys: public when the name says so (NEXT_PUBLIC_*, *_ANON_KEY, Firebase).
_PUBLIC_WHEN_NAMED = frozenset({"google-api-key", "jwt"})
# Formats whose prefix alone is weak evidence (a few letters, or base64 of a common word): keep them only when the
# rest of the token looks random.
_WEAK_PREFIX_RULES = frozenset(
    {
        "artifactory-reference-token",
        "clickhouse-api-secret",
        "octopus-deploy-api-key",
        "yandex-api-key",
        "yandex-access-token",
        "discord-bot-token",
        "resend-api-key",
        "elevenlabs-api-key",
        "azure-identifiable-key",
        "twitter-bearer-token",
        "dropbox-token",
        "maxmind-license-key",
        "harness-token",
        "settlemint-token",
        "render-api-key",
        "netlify-token",
        "infracost-token",
        "typeform-token",
        "figma-token",
        "bitbucket-app-password",
        "sendgrid-api-key",
    }
)


def _provider_matches(value: str, public_name: bool = False) -> Iterator[SecretMatch]:
    if not _PROVIDER_QUICK.search(value):
        return
    for rule, kind, pattern in _providers():
        for m in pattern.finditer(value):
            secret = m.group("s") if "s" in pattern.groupindex else m.group(0)
            prefix = m.group("p") if "p" in pattern.groupindex and m.group("p") else ""
            if rule == "azure-storage-key":
                prefix = ""
            body = secret[len(prefix) :] if secret.startswith(prefix) else secret
            if rule != "private-key" and _placeholder_token(body):
                continue
            if rule == "private-key" and len(re.sub(r"[^A-Za-z0-9+/]", "", secret[len(prefix) :])) < 40:
                continue  # a header with no key material: documentation, not a key
            if rule == "jwt" and _jwt_is_public(secret):
                continue
            if public_name and rule in _PUBLIC_WHEN_NAMED:
                continue
            if (
                rule in {"openai-api-key", "new-relic-key", "mailchimp-api-key", "twilio-api-key", "notion-token"}
                and _entropy(body) < 3.0
            ):
                continue
            if rule in _WEAK_PREFIX_RULES and (_entropy(body) < 3.0 or _classes(body) < 2 or _wordy(body)):
                continue  # a short or common prefix: the body must look machine-generated
            if not prefix.strip() or not secret.startswith(prefix):
                prefix = ""
            yield _match(rule, kind, secret, prefix)
