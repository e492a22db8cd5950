//! A local HTTP stub of the AWS query APIs (EC2, ELBv2, Classic ELB, RDS, STS), on a loopback port, for
//! what moto cannot show: several pages per call (moto ignores MaxResults; its DescribeRules
//! pages only past 50 rules), a region that
//! answers AccessDenied, and a call that never answers (an interrupted run).
//!
//! It speaks just enough HTTP/1.1 (keep-alive, Content-Length) for the SDK's client, reads
//! the form-encoded query-protocol body, and answers XML in each service's shape.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the stub behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers every call; several calls take several pages.
    Pages,
    /// As `Pages`, but DescribeVpcs never answers.
    HangOnVpcs,
}

/// The region whose every EC2/ELBv2/RDS call is refused (UnauthorizedOperation / AccessDenied).
pub const DENIED_REGION: &str = "eu-north-1";
/// The account GetCallerIdentity names (for an assumed role: the role's account).
pub const ACCOUNT: &str = "111122223333";
/// The secret key and session token AssumeRole hands out: they must never be printed.
pub const ROLE_SECRET: &str = "stub-role-secret-never-printed";
/// See [`ROLE_SECRET`].
pub const ROLE_TOKEN: &str = "stub-session-token-never-printed";

/// A running stub; stops when dropped.
pub struct Stub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Every request seen: `access-key region Action token`.
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Starts a stub on a free loopback port.
pub fn start(mode: Mode) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(Mutex::new(Vec::new()));
    {
        let stop = stop.clone();
        let requests = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let stop = stop.clone();
                let requests = requests.clone();
                std::thread::spawn(move || serve(conn, mode, &stop, &requests));
            }
        });
    }
    Stub {
        url: format!("http://127.0.0.1:{port}"),
        requests,
        stop,
        port,
    }
}

fn serve(conn: TcpStream, mode: Mode, stop: &AtomicBool, requests: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = match conn.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(conn);
    loop {
        // Request line and headers.
        let mut headers = HashMap::new();
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let mut h = String::new();
            match reader.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let params = form(&String::from_utf8_lossy(&body));
        let credential = headers
            .get("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .unwrap_or("")
            .to_string();
        let access_key = credential.split('/').next().unwrap_or("").to_string();
        let region = credential.split('/').nth(2).unwrap_or("").to_string();
        let action = params.get("Action").cloned().unwrap_or_default();
        let token = params
            .get("NextToken")
            .or_else(|| params.get("Marker"))
            .cloned()
            .unwrap_or_default();
        requests
            .lock()
            .unwrap()
            .push(format!("{access_key} {region} {action} {token}"));
        if mode == Mode::HangOnVpcs && action == "DescribeVpcs" {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        let version = params.get("Version").cloned().unwrap_or_default();
        let (status, xml) = answer(&version, &action, &token, &params, &region, &access_key);
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            xml.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(xml.as_bytes()).is_err() {
            return;
        }
    }
}

fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const EC2_NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

fn ec2(action: &str, inner: &str) -> (&'static str, String) {
    (
        "200 OK",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><{action}Response xmlns="{EC2_NS}"><requestId>req</requestId>{inner}</{action}Response>"#
        ),
    )
}

fn query(ns: &str, action: &str, inner: &str) -> (&'static str, String) {
    (
        "200 OK",
        format!(
            r#"<{action}Response xmlns="{ns}"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>req</RequestId></ResponseMetadata></{action}Response>"#
        ),
    )
}

fn vpc(n: u32) -> String {
    format!("<item><vpcId>vpc-{n}</vpcId><ownerId>{ACCOUNT}</ownerId><cidrBlock>10.{n}.0.0/16</cidrBlock><state>available</state><isDefault>false</isDefault></item>")
}

fn answer(
    version: &str,
    action: &str,
    token: &str,
    params: &HashMap<String, String>,
    region: &str,
    access_key: &str,
) -> (&'static str, String) {
    const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
    if version == "2011-06-15" && action == "AssumeRole" {
        // Credentials for the role's account: the access key names the account.
        let role = params.get("RoleArn").cloned().unwrap_or_default();
        let account = role.split(':').nth(4).unwrap_or("");
        return query(
            STS_NS,
            action,
            &format!("<Credentials><AccessKeyId>ASIA{account}</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>{ROLE_TOKEN}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASTUB:exposure</AssumedRoleId><Arn>{role}</Arn></AssumedRoleUser>"),
        );
    }
    if version == "2011-06-15" {
        let account = access_key.strip_prefix("ASIA").unwrap_or(ACCOUNT);
        return query(
            STS_NS,
            action,
            &format!("<Arn>arn:aws:iam::{account}:user/stub</Arn><UserId>AIDSTUB</UserId><Account>{account}</Account>"),
        );
    }
    if region == DENIED_REGION {
        return match version {
            "2016-11-15" => ("403 Forbidden", "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>req</RequestID></Response>".into()),
            _ => ("403 Forbidden", format!("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform {action}</Message></Error><RequestId>req</RequestId></ErrorResponse>")),
        };
    }
    match (version, action) {
        // EC2: VPCs in three pages (2 + 2 + 1).
        ("2016-11-15", "DescribeVpcs") => match token {
            "" => ec2(action, &format!("<vpcSet>{}{}</vpcSet><nextToken>p2</nextToken>", vpc(1), vpc(2))),
            "p2" => ec2(action, &format!("<vpcSet>{}{}</vpcSet><nextToken>p3</nextToken>", vpc(3), vpc(4))),
            _ => ec2(action, &format!("<vpcSet>{}</vpcSet>", vpc(5))),
        },
        // Security-group rules in two pages.
        ("2016-11-15", "DescribeSecurityGroupRules") => {
            let rule = |n: u32| format!("<item><securityGroupRuleId>sgr-{n}</securityGroupRuleId><groupId>sg-1</groupId><groupOwnerId>{ACCOUNT}</groupOwnerId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol><fromPort>{n}</fromPort><toPort>{n}</toPort><cidrIpv4>0.0.0.0/0</cidrIpv4></item>");
            match token {
                "" => ec2(action, &format!("<securityGroupRuleSet>{}{}</securityGroupRuleSet><nextToken>r2</nextToken>", rule(22), rule(80))),
                _ => ec2(action, &format!("<securityGroupRuleSet>{}</securityGroupRuleSet>", rule(443))),
            }
        }
        // Instances: two pages of one reservation each.
        ("2016-11-15", "DescribeInstances") => {
            let reservation = |n: u32| format!("<item><reservationId>r-{n}</reservationId><ownerId>{ACCOUNT}</ownerId><instancesSet><item><instanceId>i-{n}</instanceId><instanceState><code>16</code><name>running</name></instanceState><vpcId>vpc-1</vpcId><privateIpAddress>10.1.0.{n}</privateIpAddress></item></instancesSet></item>");
            match token {
                "" => ec2(action, &format!("<reservationSet>{}</reservationSet><nextToken>i2</nextToken>", reservation(1))),
                _ => ec2(action, &format!("<reservationSet>{}</reservationSet>", reservation(2))),
            }
        }
        // A prefix list whose entries take two pages.
        ("2016-11-15", "DescribeManagedPrefixLists") => ec2(action, &format!("<prefixListSet><item><prefixListId>pl-1</prefixListId><prefixListName>office</prefixListName><addressFamily>IPv4</addressFamily><state>create-complete</state><ownerId>{ACCOUNT}</ownerId></item></prefixListSet>")),
        ("2016-11-15", "GetManagedPrefixListEntries") => match token {
            "" => ec2(action, "<entrySet><item><cidr>203.0.113.0/24</cidr></item></entrySet><nextToken>e2</nextToken>"),
            _ => ec2(action, "<entrySet><item><cidr>198.51.100.0/24</cidr></item></entrySet>"),
        },
        ("2016-11-15", "DescribeRegions") => ec2(action, "<regionInfo><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint></item><item><regionName>eu-west-3</regionName><regionEndpoint>ec2.eu-west-3.amazonaws.com</regionEndpoint></item></regionInfo>"),
        // VPC Block Public Access: the region's options, and its exclusions in two pages.
        ("2016-11-15", "DescribeVpcBlockPublicAccessOptions") => ec2(action, &format!("<vpcBlockPublicAccessOptions><awsAccountId>{ACCOUNT}</awsAccountId><awsRegion>{region}</awsRegion><state>update-complete</state><internetGatewayBlockMode>block-bidirectional</internetGatewayBlockMode></vpcBlockPublicAccessOptions>")),
        ("2016-11-15", "DescribeVpcBlockPublicAccessExclusions") => {
            let exclusion = |id: &str, arn: &str, mode: &str| format!("<item><exclusionId>{id}</exclusionId><internetGatewayExclusionMode>{mode}</internetGatewayExclusionMode><resourceArn>arn:aws:ec2:{region}:{ACCOUNT}:{arn}</resourceArn><state>create-complete</state></item>");
            match token {
                "" => ec2(action, &format!("<vpcBlockPublicAccessExclusionSet>{}</vpcBlockPublicAccessExclusionSet><nextToken>x2</nextToken>", exclusion("exclusion-1", "vpc/vpc-1", "allow-bidirectional"))),
                _ => ec2(action, &format!("<vpcBlockPublicAccessExclusionSet>{}</vpcBlockPublicAccessExclusionSet>", exclusion("exclusion-2", "subnet/subnet-2", "allow-egress"))),
            }
        }
        ("2016-11-15", _) => ec2(action, ""),
        // ELBv2: load balancers in two pages, listeners in two pages per load balancer.
        ("2015-12-01", "DescribeLoadBalancers") => {
            let lb = |n: u32| format!("<member><LoadBalancerArn>arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/app/lb-{n}/{n}</LoadBalancerArn><LoadBalancerName>lb-{n}</LoadBalancerName><Scheme>internal</Scheme><Type>application</Type><VpcId>vpc-1</VpcId><State><Code>active</Code></State></member>");
            match token {
                "" => query(ELB_NS, action, &format!("<LoadBalancers>{}</LoadBalancers><NextMarker>lb2</NextMarker>", lb(1))),
                _ => query(ELB_NS, action, &format!("<LoadBalancers>{}</LoadBalancers>", lb(2))),
            }
        }
        ("2015-12-01", "DescribeListeners") => {
            let lb = params.get("LoadBalancerArn").cloned().unwrap_or_default();
            let listener = |port: u32| format!("<member><ListenerArn>{lb}/listener-{port}</ListenerArn><LoadBalancerArn>{lb}</LoadBalancerArn><Port>{port}</Port><Protocol>HTTP</Protocol></member>");
            match token {
                "" => query(ELB_NS, action, &format!("<Listeners>{}</Listeners><NextMarker>l2</NextMarker>", listener(80))),
                _ => query(ELB_NS, action, &format!("<Listeners>{}</Listeners>", listener(8080))),
            }
        }
        // Rules in two pages per listener: a redirect rule, then the default rule; but lb-2's
        // port 8080 listener answers `UnsupportedProtocol` (a listener without rules).
        ("2015-12-01", "DescribeRules") => {
            let listener = params.get("ListenerArn").cloned().unwrap_or_default();
            if listener.ends_with("/lb-2/2/listener-8080") {
                return (
                    "400 Bad Request",
                    "<ErrorResponse><Error><Type>Sender</Type><Code>UnsupportedProtocol</Code><Message>The specified protocol is not supported.</Message></Error><RequestId>req</RequestId></ErrorResponse>".into(),
                );
            }
            let rule = |id: &str, priority: &str, default: bool, kind: &str| format!("<member><RuleArn>{listener}/rule-{id}</RuleArn><Priority>{priority}</Priority><IsDefault>{default}</IsDefault><Actions><member><Type>{kind}</Type><Order>1</Order></member></Actions></member>");
            match token {
                "" => query(ELB_NS, action, &format!("<Rules>{}</Rules><NextMarker>r2</NextMarker>", rule("1", "10", false, "redirect"))),
                _ => query(ELB_NS, action, &format!("<Rules>{}</Rules>", rule("default", "default", true, "fixed-response"))),
            }
        }
        ("2015-12-01", "DescribeLoadBalancerAttributes") => query(ELB_NS, action, "<Attributes><member><Key>load_balancing.cross_zone.enabled</Key><Value>true</Value></member></Attributes>"),
        ("2015-12-01", _) => query(ELB_NS, action, ""),
        // Classic Load Balancers: two pages of one each, their attributes one call each.
        ("2012-06-01", "DescribeLoadBalancers") => {
            let clb = |n: u32| format!("<member><LoadBalancerName>clb-{n}</LoadBalancerName><DNSName>clb-{n}-1.{region}.elb.amazonaws.com</DNSName><Scheme>internet-facing</Scheme><VPCId>vpc-1</VPCId><Subnets><member>subnet-1</member></Subnets><SecurityGroups><member>sg-1</member></SecurityGroups><ListenerDescriptions><member><Listener><Protocol>TCP</Protocol><LoadBalancerPort>80</LoadBalancerPort><InstanceProtocol>TCP</InstanceProtocol><InstancePort>8080</InstancePort></Listener><PolicyNames/></member></ListenerDescriptions><Instances><member><InstanceId>i-{n}</InstanceId></member></Instances></member>");
            match token {
                "" => query(CLB_NS, action, &format!("<LoadBalancerDescriptions>{}</LoadBalancerDescriptions><NextMarker>c2</NextMarker>", clb(1))),
                _ => query(CLB_NS, action, &format!("<LoadBalancerDescriptions>{}</LoadBalancerDescriptions>", clb(2))),
            }
        }
        ("2012-06-01", "DescribeLoadBalancerAttributes") => query(CLB_NS, action, "<LoadBalancerAttributes><CrossZoneLoadBalancing><Enabled>false</Enabled></CrossZoneLoadBalancing><ConnectionSettings><IdleTimeout>60</IdleTimeout></ConnectionSettings></LoadBalancerAttributes>"),
        ("2012-06-01", _) => query(CLB_NS, action, ""),
        // RDS: databases in two pages.
        ("2014-10-31", "DescribeDBInstances") => {
            let db = |n: u32| format!("<DBInstance><DBInstanceIdentifier>db-{n}</DBInstanceIdentifier><Engine>postgres</Engine><DBInstanceStatus>available</DBInstanceStatus></DBInstance>");
            match token {
                "" => query(RDS_NS, action, &format!("<DBInstances>{}</DBInstances><Marker>d2</Marker>", db(1))),
                _ => query(RDS_NS, action, &format!("<DBInstances>{}</DBInstances>", db(2))),
            }
        }
        _ => (
            "400 Bad Request",
            format!("<ErrorResponse><Error><Code>InvalidAction</Code><Message>stub: {version} {action}</Message></Error></ErrorResponse>"),
        ),
    }
}

const ELB_NS: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
const CLB_NS: &str = "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/";
const RDS_NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";
