using System.Diagnostics;
using System.Text;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Printk;

namespace Kdump.Engine.Tests.Printk;

public class LocklessRingTests
{
    internal static (List<CrashLogRecord> Records, List<PrintkWarning> Warnings) ReadAll(VmcoreInfo vi, SyntheticMemory m, CrashLogFormat? format = null)
    {
        var warnings = new List<PrintkWarning>();
        var records = PrintkLog.EnumerateRecords(vi, m.Read, null, format, warnings.Add).ToList();
        return (records, warnings);
    }

    [Fact]
    public void ReadsRecordsWithTheirFields()
    {
        var b = new LocklessRingBuilder(countBits: 5, sizeBits: 12);
        b.Add("Linux version 6.1.0-57-amd64", level: 5, ts: 0, caller: 0);
        b.Add("virtio_blk virtio1: [vda] 2097152 512-byte logical blocks", level: 6, ts: 1_234_567_891, caller: 0x80000001,
              subsystem: "virtio", device: "+virtio:virtio1");
        b.Add("sysrq: Trigger a crash", level: 0, ts: 98_765_000_123_456, caller: 412, facility: 1);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());

        Assert.Empty(warnings);
        Assert.Equal(3, recs.Count);
        Assert.Equal("[    0.000000] Linux version 6.1.0-57-amd64", recs[0].ToString());
        Assert.Equal("[    1.234567] virtio_blk virtio1: [vda] 2097152 512-byte logical blocks", recs[1].ToString());
        Assert.Equal("[98765.000123] sysrq: Trigger a crash", recs[2].ToString());
        Assert.Equal(new ulong[] { 0, 1, 2 }, recs.Select(r => r.Sequence));
        Assert.Equal("notice", recs[0].LevelName);
        Assert.Equal(0, recs[2].Level);
        Assert.Equal("emerg", recs[2].LevelName);
        Assert.Equal("user", recs[2].FacilityName);
        Assert.Equal("T412", recs[2].CallerId);
        Assert.Equal("C1", recs[1].CallerId);
        Assert.Equal("virtio", recs[1].DeviceInfo!.Subsystem);
        Assert.Equal("+virtio:virtio1", recs[1].DeviceInfo!.Device);
        Assert.Null(recs[0].DeviceInfo);
        Assert.Equal(TimeSpan.FromTicks(12_345_678), recs[1].Timestamp);
        Assert.Equal(1_234_567_891UL, recs[1].TimestampNanoseconds);
        Assert.All(recs, r => Assert.Equal(PrintkLayoutKind.Lockless, r.Layout));
    }

    [Fact]
    public void CallerIdFormatPutsTheIdAfterTheTimestamp()
    {
        var b = new LocklessRingBuilder(5, 12);
        b.Add("one", ts: 5_000_000_000, caller: 77);
        b.Add("two", ts: 5_000_001_000, caller: 0x80000003);
        var (recs, _) = ReadAll(b.VmcoreInfo(), b.Build(), CrashLogFormat.WithCallerId);
        Assert.Equal("[    5.000000] [" + "T77".PadLeft(CrashLogFormatter.CallerIdWidth) + "] one", recs[0].ToString());
        Assert.Equal("[    5.000001] [" + "C3".PadLeft(CrashLogFormatter.CallerIdWidth) + "] two", recs[1].ToString());
    }

    [Fact]
    public void WithoutCallerIdOffsetRecordsHaveNoCallerId()
    {
        var b = new LocklessRingBuilder(5, 12) { ExportCallerId = false };
        b.Add("x", caller: 5);
        var (recs, _) = ReadAll(b.VmcoreInfo(), b.Build(), CrashLogFormat.WithCallerId);
        Assert.Null(recs[0].CallerId);
        Assert.Equal("[    0.000000] x", recs[0].ToString());
    }

    [Fact]
    public void WrapAroundReturnsExactlyTheLiveRecordsInOrder()
    {
        var b = new LocklessRingBuilder(countBits: 6, sizeBits: 10);
        var rnd = new Random(7);
        for (int i = 0; i < 500; i++)
            b.Add($"message {i} " + new string((char)('a' + i % 26), rnd.Next(0, 90)), level: i % 8, ts: (ulong)i * 1_000_000);
        Assert.True(b.Wraps > 5, "the test must wrap the text ring");
        Assert.True(b.Recycled > 400);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(b.Live.Select(e => e.Seq), recs.Select(r => r.Sequence));
        Assert.Equal(b.Live.Select(e => Encoding.UTF8.GetString(e.Text)), recs.Select(r => r.Text));
        Assert.Equal(b.Live.Select(e => e.Level), recs.Select(r => r.Level));
        Assert.Contains(b.Live, e => e.Begin % b.Size > e.Next % b.Size); // a wrapped block is among them
    }

    [Fact]
    public void DescriptorRingFullRecyclesTheOldest()
    {
        var b = new LocklessRingBuilder(countBits: 3, sizeBits: 14);
        for (int i = 0; i < 20; i++) b.Add($"r{i}");
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(Enumerable.Range(12, 8).Select(i => $"r{i}"), recs.Select(r => r.Text));
    }

    [Fact]
    public void IdsWrapAtSixtyTwoBits()
    {
        var b = new LocklessRingBuilder(4, 12, firstId: LocklessRingBuilder.IdMask - 5, firstSeq: 1000);
        for (int i = 0; i < 12; i++) b.Add($"w{i}");
        Assert.Contains(b.Live, e => e.Id < 10);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"w{i}"), recs.Select(r => r.Text));
        Assert.Equal(1011UL, recs[^1].Sequence);
    }

    [Fact]
    public void ReservedReusableAndMismatchedDescriptorsAreSkipped()
    {
        var b = new LocklessRingBuilder(5, 12);
        var a0 = b.Add("kept 0");
        var a1 = b.Add("reusable");
        var a2 = b.Add("committed, not finalized");
        var a3 = b.Add("stale id");
        var a4 = b.Add("being written");
        b.WriteState(a1.Id, 3);
        b.WriteState(a2.Id, 1);
        b.Memory.WriteU64(b.DescAddress(a3.Id), (2UL << 62) | (a3.Id + 32)); // the slot holds a later id
        b.WriteState(a4.Id, 0);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(new[] { "kept 0", "committed, not finalized" }, recs.Select(r => r.Text));
    }

    [Fact]
    public void DataLessRecordsAreSkippedAsMakedumpfileDoes()
    {
        var b = new LocklessRingBuilder(5, 12);
        b.Add("before");
        var empty = b.Add("");
        b.Add("after");
        b.WriteLpos(empty.Id, 3, 3); // NO_LPOS: an empty line
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(warnings);
        Assert.Equal(new[] { "before", "after" }, recs.Select(r => r.Text));
    }

    [Fact]
    public void EmptyRingYieldsNothing()
    {
        var b = new LocklessRingBuilder(5, 12);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build(headId: 31, tailId: 0));
        Assert.Empty(recs);
        Assert.Empty(warnings);
    }
}
