"""The VPC: two public and two private subnets in two availability zones.

Private subnets hold RDS, the App Runner VPC connector and the trainer instance. They
reach the internet through NAT, because the api calls the Anthropic API and SageMaker
Runtime and the trainer pulls images and market data from live providers. One NAT
gateway by default (cost); `one_nat_per_az` gives each zone its own so a zone outage
does not cut the other zone's egress. An S3 gateway endpoint (free) keeps lake and model
traffic off NAT.

Security groups are identities rather than firewalls here: the api and the trainer get
one each, and the database admits PostgreSQL from exactly those two (see database.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi_aws as aws

import pulumi

ZONES = 2


@dataclass(frozen=True)
class NetworkArgs:
    cidr_block: str
    one_nat_per_az: bool


def subnet_cidrs(cidr_block: str) -> tuple[list[str], list[str]]:
    """Public and private /20s (a /16 VPC): public take the first blocks, private the ninth on."""
    blocks = list(ipaddress.ip_network(cidr_block).subnets(new_prefix=20))
    public = [str(blocks[i]) for i in range(ZONES)]
    private = [str(blocks[8 + i]) for i in range(ZONES)]
    return public, private


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    api_security_group_id: pulumi.Output[str]
    trainer_security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aia:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        zones = aws.get_availability_zones_output(state="available")
        public_cidrs, private_cidrs = subnet_cidrs(args.cidr_block)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags={"Name": f"{name}-public"},
            opts=child,
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for index in range(ZONES):
            zone = zones.names[index]
            public = aws.ec2.Subnet(
                f"{name}-public-{index}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{index}", "tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=child,
            )
            public_subnets.append(public)
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-private-{index}", "tier": "private"},
                    opts=child,
                )
            )

        nat_gateways: list[aws.ec2.NatGateway] = []
        for index in range(ZONES if args.one_nat_per_az else 1):
            address = aws.ec2.Eip(
                f"{name}-nat-{index}",
                domain="vpc",
                tags={"Name": f"{name}-nat-{index}"},
                opts=child,
            )
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=address.id,
                    subnet_id=public_subnets[index].id,
                    tags={"Name": f"{name}-nat-{index}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                )
            )

        private_route_tables: list[aws.ec2.RouteTable] = []
        for index, subnet in enumerate(private_subnets):
            nat = nat_gateways[index % len(nat_gateways)]
            routes = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}",
                subnet_id=subnet.id,
                route_table_id=routes.id,
                opts=child,
            )
            private_route_tables.append(routes)

        region = aws.get_region_output()
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=region.region.apply(lambda r: f"com.amazonaws.{r}.s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )

        api_group = self._egress_only_group(name, "api", vpc.id, "App Runner VPC connector (api)")
        trainer_group = self._egress_only_group(name, "trainer", vpc.id, "trainer instance")

        self.vpc_id = vpc.id
        self.public_subnet_ids = [subnet.id for subnet in public_subnets]
        self.private_subnet_ids = [subnet.id for subnet in private_subnets]
        self.api_security_group_id = api_group.id
        self.trainer_security_group_id = trainer_group.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )

    def _egress_only_group(
        self, name: str, role: str, vpc_id: pulumi.Input[str], description: str
    ) -> aws.ec2.SecurityGroup:
        """A group with no ingress at all and HTTPS/any egress: nothing connects to it."""
        group = aws.ec2.SecurityGroup(
            f"{name}-{role}",
            vpc_id=vpc_id,
            description=f"{description}: no ingress",
            tags={"Name": f"{name}-{role}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-{role}-egress",
            security_group_id=group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="outbound: AWS APIs, PostgreSQL, market data, Anthropic",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group
