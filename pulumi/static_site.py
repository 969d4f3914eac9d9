"""The web app: the Vite build in a private S3 bucket behind CloudFront, and `/api/*` on
the same distribution so the browser talks to ONE origin and session cookies stay
first-party.

- The bucket is never public: CloudFront reads it with Origin Access Control (SigV4), and
  the bucket policy admits only this distribution.
- Default behaviour → S3, cached (managed CachingOptimized), security headers added.
- `/api/*` → the api's App Runner URL, nothing cached (managed CachingDisabled), every
  viewer header, cookie and query string forwarded except Host (managed
  AllViewerExceptHostHeader: App Runner routes on its own host name).
- SPA fallback: a CloudFront Function on the default behaviour serves /index.html for
  paths without a file extension. Distribution-wide custom error responses would also
  turn the api's JSON 403/404 answers into index.html, so the fallback is limited to the
  S3 behaviour this way.

Upload the build with `aws s3 sync <dist> s3://<site bucket>` and invalidate `/index.html`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws
from storage import deny_insecure_transport, private_bucket

import pulumi

S3_ORIGIN = "web"
API_ORIGIN = "api"
API_PATH = "/api/*"

# Served at the root of the distribution for any path that is not a file: the SPA's
# router handles it in the browser.
SPA_FALLBACK_CODE = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


@dataclass(frozen=True)
class StaticSiteArgs:
    api_host: pulumi.Input[str]
    price_class: str


class StaticSite(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:site:StaticSite", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        site = private_bucket(f"{name}-web", self, tls_policy=False)
        bucket = site.bucket

        access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=f"{name}-web-oac",
            description="CloudFront reads the web bucket; the bucket stays private",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        spa_fallback = aws.cloudfront.Function(
            f"{name}-spa-fallback",
            name=f"{name}-spa-fallback",
            runtime="cloudfront-js-2.0",
            comment="paths without a file extension serve /index.html",
            code=SPA_FALLBACK_CODE,
            publish=True,
            opts=child,
        )

        caching_optimized = aws.cloudfront.get_cache_policy_output(name="Managed-CachingOptimized")
        caching_disabled = aws.cloudfront.get_cache_policy_output(name="Managed-CachingDisabled")
        all_viewer_except_host = aws.cloudfront.get_origin_request_policy_output(
            name="Managed-AllViewerExceptHostHeader"
        )
        security_headers = aws.cloudfront.get_response_headers_policy_output(
            name="Managed-SecurityHeadersPolicy"
        )

        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            is_ipv6_enabled=True,
            comment="AI Investment Agent: web app and /api",
            default_root_object="index.html",
            price_class=args.price_class,
            http_version="http2and3",
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=S3_ORIGIN,
                    domain_name=bucket.bucket_regional_domain_name,
                    origin_access_control_id=access_control.id,
                ),
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=API_ORIGIN,
                    domain_name=args.api_host,
                    custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                        # Chat answers stream; allow the longest read CloudFront permits
                        # without a quota increase.
                        origin_read_timeout=60,
                    ),
                ),
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=S3_ORIGIN,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=caching_optimized.id,
                response_headers_policy_id=security_headers.id,
                function_associations=[
                    aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                        event_type="viewer-request", function_arn=spa_fallback.arn
                    )
                ],
            ),
            ordered_cache_behaviors=[
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern=API_PATH,
                    target_origin_id=API_ORIGIN,
                    # A redirect would drop a POST body: plain HTTP is refused instead.
                    viewer_protocol_policy="https-only",
                    allowed_methods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                    cached_methods=["GET", "HEAD"],
                    compress=False,
                    cache_policy_id=caching_disabled.id,
                    origin_request_policy_id=all_viewer_except_host.id,
                )
            ],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True
            ),
            opts=child,
        )

        aws.s3.BucketPolicy(
            f"{name}-web",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, distribution.arn).apply(
                lambda arns: deny_insecure_transport(
                    arns[0],
                    [
                        {
                            "Sid": "CloudFrontReadsThroughOriginAccessControl",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": f"{arns[0]}/*",
                            "Condition": {"StringEquals": {"AWS:SourceArn": arns[1]}},
                        }
                    ],
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[site.access_block]),
        )

        self.bucket_name = bucket.bucket
        self.distribution_id = distribution.id
        self.domain_name = distribution.domain_name
        self.url = distribution.domain_name.apply(lambda domain: f"https://{domain}")
        self.register_outputs({"url": self.url, "bucket_name": self.bucket_name})
