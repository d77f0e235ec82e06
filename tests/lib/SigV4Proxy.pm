# SigV4Proxy.pm - a small HTTP proxy for the S3 tests that checks every
# request's AWS Signature Version 4 (the S3-compatible server the tests run,
# s3rver, checks only the access key id) and forwards good ones to the real
# server.  A bad signature gets S3's own 403 SignatureDoesNotMatch.  Each
# checked request is logged as "ok METHOD PATH?QUERY" (or "bad ...") to a
# file, so a test can see what was signed.  127.0.0.1 only, one request per
# connection (pgpart's S3 driver opens one per request).
package SigV4Proxy;

use strict;
use warnings;
use Digest::SHA qw(sha256_hex hmac_sha256 hmac_sha256_hex);
use IO::Socket::INET;
use POSIX ();

# returns (pid, port)
sub start
{
	my ($upstream_port, $secret, $log) = @_;
	my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 32,
		ReuseAddr => 1) or die "proxy: $!";
	my $port = $listen->sockport;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		while (my $c = $listen->accept)
		{
			eval { handle($c, $$upstream_port, $secret, $log) };
			close $c;
		}
		POSIX::_exit(0);
	}
	close $listen;
	return ($pid, $port);
}

sub enc
{
	my ($s, $keep_slash) = @_;
	$s =~ s{([^A-Za-z0-9\-_.~/])}{sprintf('%%%02X', ord $1)}ge;
	$s =~ s{/}{%2F}g unless $keep_slash;
	return $s;
}
sub dec { my ($s) = @_; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; return $s }

sub read_exact
{
	my ($c, $n) = @_;
	my $data = '';
	while (length($data) < $n)
	{
		my $r = sysread($c, my $buf, $n - length($data));
		last unless $r;
		$data .= $buf;
	}
	return $data;
}

sub handle
{
	my ($c, $upstream_port, $secret, $log) = @_;
	binmode $c;
	my $head = '';
	while ($head !~ /\r\n\r\n$/)
	{
		my $r = sysread($c, my $b, 1);
		return unless $r;
		$head .= $b;
	}
	my ($line, @hl) = split /\r\n/, $head;
	my ($method, $target) = split / /, $line;
	my %h;
	for (@hl)
	{
		my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
		$v =~ s/\s+/ /g;
		$h{lc $k} = $v;
	}
	my $body = $h{'content-length'} ? read_exact($c, $h{'content-length'}) : '';
	my ($path, $query) = split /\?/, $target, 2;
	$query //= '';

	my $why;
	my ($cred, $signed, $sig) = ($h{authorization} // '') =~
	  /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/;
	if (!$sig) { $why = 'no SigV4 Authorization header' }
	else
	{
		my ($akid, $date, $region, $service, $term) = split m{/}, $cred;
		my $payload = $h{'x-amz-content-sha256'} // '';
		$why = 'payload hash differs from the body' if $payload ne 'UNSIGNED-PAYLOAD' && $payload ne sha256_hex($body);
		my @q = map { my ($k, $v) = split /=/, $_, 2; [ enc(dec($k)), enc(dec($v // '')) ] }
		  grep { length } split /&/, $query;
		my $cq = join '&', map { "$_->[0]=$_->[1]" } sort { $a->[0] cmp $b->[0] || $a->[1] cmp $b->[1] } @q;
		my $ch = join '', map { "$_:" . ($h{$_} // '') . "\n" } split /;/, $signed;
		my $creq = join "\n", $method, enc(dec($path), 1), $cq, $ch, $signed, $payload;
		my $sts = join "\n", 'AWS4-HMAC-SHA256', $h{'x-amz-date'} // '', "$date/$region/$service/$term",
		  sha256_hex($creq);
		my $k = hmac_sha256($date, "AWS4$secret");
		$k = hmac_sha256($region, $k);
		$k = hmac_sha256($service, $k);
		$k = hmac_sha256($term, $k);
		$why //= 'signature does not match' if hmac_sha256_hex($sts, $k) ne $sig;
	}
	if (open(my $fh, '>>', $log)) { print $fh ($why ? "bad $method $target: $why\n" : "ok $method $target\n"); close $fh }
	if ($why)
	{
		my $x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
		  . "<Message>The request signature we calculated does not match the signature you provided ($why).</Message></Error>";
		syswrite($c, "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: "
			  . length($x) . "\r\nConnection: close\r\n\r\n$x");
		return;
	}
	my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $upstream_port) or return;
	binmode $u;
	$head =~ s/^Connection:[^\r]*\r\n//mig;
	$head =~ s/\r\n\r\n$/\r\nConnection: close\r\n\r\n/;
	syswrite($u, $head . $body);
	while (1)
	{
		my $r = sysread($u, my $buf, 65536);
		last unless $r;
		syswrite($c, $buf);
	}
	close $u;
}

1;
