using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Printk;

namespace Kdump.Engine.Tests.Printk;

public class LogBufTests
{
    [Fact]
    public void ReadsRecordsLevelsAndDictionaries()
    {
        var b = new LogBufBuilder(4096);
        b.Add("Linux version 5.4.0", level: 5, ts: 0);
        b.Add("e1000 0000:00:03.0 eth0: link up", level: 6, ts: 2_500_000_000, dict: "SUBSYSTEM=pci\0DEVICE=+pci:0000:00:03.0");
        b.Add("Kernel panic - not syncing: sysrq triggered crash", level: 0, ts: 10_000_001_000);
        var (recs, warnings) = LocklessRingTests.ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(new[]
        {
            "[    0.000000] Linux version 5.4.0",
            "[    2.500000] e1000 0000:00:03.0 eth0: link up",
            "[   10.000001] Kernel panic - not syncing: sysrq triggered crash",
        }, recs.Select(r => r.ToString()));
        Assert.Equal(new[] { 5, 6, 0 }, recs.Select(r => r.Level));
        Assert.Equal(new ulong[] { 0, 1, 2 }, recs.Select(r => r.Sequence));
        Assert.Equal("pci", recs[1].DeviceInfo!.Subsystem);
        Assert.Equal("+pci:0000:00:03.0", recs[1].DeviceInfo!.Device);
        Assert.All(recs, r => Assert.Null(r.CallerId));
        Assert.All(recs, r => Assert.Equal(PrintkLayoutKind.LogBuf, r.Layout));
    }

    [Fact]
    public void WrapMarkerContinuesAtTheStart()
    {
        var b = new LogBufBuilder(2048, callerId: true);
        for (int i = 0; i < 300; i++) b.Add($"msg {i} " + new string('z', i % 50), level: i % 8, ts: (ulong)i, caller: (uint)i);
        Assert.True(b.Wraps > 3);
        var (recs, warnings) = LocklessRingTests.ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(b.Live.Select(e => System.Text.Encoding.UTF8.GetString(e.Text)), recs.Select(r => r.Text));
        Assert.Equal(b.Live.Select(e => "T" + e.Caller), recs.Select(r => r.CallerId));
    }

    [Fact]
    public void ACycleInTheChainStopsWithAWarning()
    {
        var b = new LogBufBuilder(4096);
        b.Add("first");
        b.Add("second");
        var m = b.Build(next: 4000); // never reached
        m.WriteU16(LogBufBuilder.Buffer + (ulong)b.Live[1].Index + 8, 0); // a wrap marker: back to index 0, forever
        var (recs, warnings) = LocklessRingTests.ReadAll(b.VmcoreInfo(), m);
        Assert.Equal("PrintkLogCycle", Assert.Single(warnings).ErrorId);
        Assert.True(recs.Count > 2 && recs.Count < 4096);
    }

    [Fact]
    public void ALengthLeadingOutsideTheBufferStops()
    {
        var b = new LogBufBuilder(4096);
        b.Add("first");
        b.Add("second");
        b.Add("third");
        var m = b.Build();
        m.WriteU16(LogBufBuilder.Buffer + (ulong)b.Live[1].Index + 8, 8000);
        var (recs, warnings) = LocklessRingTests.ReadAll(b.VmcoreInfo(), m);
        Assert.Equal("PrintkRecordInvalid", Assert.Single(warnings).ErrorId);
        Assert.Equal(new[] { "first", "second" }, recs.Select(r => r.Text));
    }

    [Fact]
    public void IndexesOutsideTheBufferAreWarned()
    {
        var b = new LogBufBuilder(4096);
        b.Add("first");
        var (recs, warnings) = LocklessRingTests.ReadAll(b.VmcoreInfo(), b.Build(first: 10_000));
        Assert.Empty(recs);
        Assert.Equal("PrintkRingIdsInvalid", Assert.Single(warnings).ErrorId);
    }

    [Fact]
    public void ImpossibleLogBufLenIsRefused()
    {
        var b = new LogBufBuilder(4096);
        b.Add("first");
        var m = b.Build();
        m.WriteU32(LogBufBuilder.LogBufLenVar, 0x7fffffff);
        Assert.Equal("PrintkRingTooLarge", Assert.Throws<KdumpException>(() => LocklessRingTests.ReadAll(b.VmcoreInfo(), m)).ErrorId);
        m.WriteU32(LogBufBuilder.LogBufLenVar, 0xffffffff);
        Assert.Equal("PrintkRingInvalid", Assert.Throws<KdumpException>(() => LocklessRingTests.ReadAll(b.VmcoreInfo(), m)).ErrorId);
    }
}
