using System.Diagnostics;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Printk;

namespace Kdump.Engine.Tests.Printk;

/// <summary>Corrupted rings: every problem is a warning with an id, reading goes on, nothing hangs.</summary>
public class PrintkGarbageTests
{
    private static (List<CrashLogRecord>, List<PrintkWarning>) ReadAll(VmcoreInfo vi, SyntheticMemory m) => LocklessRingTests.ReadAll(vi, m);

    private static LocklessRingBuilder Ring(int n = 10)
    {
        var b = new LocklessRingBuilder(5, 12);
        for (int i = 0; i < n; i++) b.Add($"line {i}", ts: (ulong)i * 1000);
        return b;
    }

    [Fact]
    public void HeadAndTailFarApartAreBoundedToTheRing()
    {
        var b = Ring();
        var head = b.Live[^1].Id;
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build(headId: head, tailId: head - 1_000_000_000));
        Assert.Equal("PrintkRingIdsInvalid", Assert.Single(warnings).ErrorId);
        Assert.Equal(b.Live.Select(e => e.Seq), recs.Select(r => r.Sequence));
    }

    [Fact]
    public void ImpossibleBlockPositionsAreWarnedAndSkipped()
    {
        var b = Ring();
        b.WriteLpos(b.Live[2].Id, 0x10, 0x10 + 0x100000);   // longer than the ring
        b.WriteLpos(b.Live[3].Id, 0x40, 0x44);              // too short for the id word
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Equal(new[] { "PrintkDataBlockInvalid", "PrintkDataBlockInvalid" }, warnings.Select(w => w.ErrorId));
        Assert.Equal((object)b.Live[2].Id, warnings[0].Target);
        Assert.Equal(8, recs.Count);
    }

    [Fact]
    public void TextLengthLongerThanTheBlockIsTruncatedWithAWarning()
    {
        var b = Ring();
        b.Memory.WriteU16(b.InfoAddress(b.Live[4].Id) + 16, 60000);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Equal("PrintkTextTruncated", Assert.Single(warnings).ErrorId);
        Assert.StartsWith("line 4", recs[4].Text);
        Assert.True(recs[4].Text.Length <= 16);
    }

    [Fact]
    public void BlockIdMismatchIsWarned()
    {
        var b = Ring();
        var e = b.Live[5];
        b.Memory.WriteU64(LocklessRingBuilder.TextBase + e.Begin % b.Size, 12345);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Equal("PrintkDataBlockMismatch", Assert.Single(warnings).ErrorId);
        Assert.Equal(10, recs.Count);
    }

    [Fact]
    public void UnreadableTextPageSkipsOnlyItsRecords()
    {
        var b = new LocklessRingBuilder(6, 13); // 8 KiB text ring: two pages
        for (int i = 0; i < 40; i++) b.Add($"record {i} " + new string('x', 150));
        b.Memory.RemovePage(LocklessRingBuilder.TextBase + 4096);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Contains(warnings, w => w.ErrorId == "PrintkRingPartlyUnreadable");
        Assert.Contains(warnings, w => w.ErrorId == "PrintkTextUnreadable");
        Assert.NotEmpty(recs);
        Assert.True(recs.Count < b.Live.Count);
        Assert.All(recs, r => Assert.StartsWith("record ", r.Text));
    }

    [Fact]
    public void ManyBadRecordsAreSummarisedNotFlooded()
    {
        var b = new LocklessRingBuilder(8, 14);
        for (int i = 0; i < 200; i++) b.Add($"m{i}");
        foreach (var e in b.Live) b.WriteLpos(e.Id, 0x8, 0x8 + 0x1000000);
        var (recs, warnings) = ReadAll(b.VmcoreInfo(), b.Build());
        Assert.Empty(recs);
        Assert.Equal(PrintkLimits.MaxWarningsPerId + 1, warnings.Count);
        Assert.Contains("more records", warnings[^1].Message);
    }

    [Fact]
    public void HugeRingSizesAreRefusedBeforeAllocating()
    {
        var b = Ring();
        var m = b.Build();
        m.WriteU32(LocklessRingBuilder.RingStruct + 0, 40); // count_bits
        var ex = Assert.Throws<KdumpException>(() => ReadAll(b.VmcoreInfo(), m));
        Assert.Equal("PrintkRingTooLarge", ex.ErrorId);
        m.WriteU32(LocklessRingBuilder.RingStruct + 0, 5);
        m.WriteU32(LocklessRingBuilder.RingStruct + LocklessRingBuilder.TextRingOffset, 31);
        Assert.Equal("PrintkRingTooLarge", Assert.Throws<KdumpException>(() => ReadAll(b.VmcoreInfo(), m)).ErrorId);
    }

    [Fact]
    public void UnreadableRingStructureIsAnError()
    {
        var b = Ring();
        var m = b.Build();
        m.WriteU64(LocklessRingBuilder.PrbVariable, 0xffff888000000000);
        var ex = Assert.Throws<KdumpException>(() => ReadAll(b.VmcoreInfo(), m));
        Assert.Equal("PrintkRingUnreadable", ex.ErrorId);
    }

    [Fact]
    public void RandomGarbageNeverHangsOrThrowsRawExceptions()
    {
        var rnd = new Random(1234);
        for (int round = 0; round < 60; round++)
        {
            var b = new LocklessRingBuilder(7, 12);
            for (int i = 0; i < 50; i++) b.Add($"r{i}");
            var m = b.Build();
            var junk = new byte[4096];
            rnd.NextBytes(junk);
            ulong target = (round % 3) switch
            {
                0 => LocklessRingBuilder.DescsBase,
                1 => LocklessRingBuilder.InfosBase + (ulong)(rnd.Next(0, 2) * 4096),
                _ => LocklessRingBuilder.TextBase,
            };
            m.Write(target, junk.AsSpan(0, rnd.Next(64, 4096)));
            if (round % 5 == 0) { var ring = new byte[88]; rnd.NextBytes(ring); m.Write(LocklessRingBuilder.RingStruct, ring); }
            try
            {
                var (recs, warnings) = ReadAll(b.VmcoreInfo(), m);
                Assert.True(recs.Count <= 128);
            }
            catch (KdumpException) { }
        }
    }

    [Fact]
    public void MissingVmcoreInfoKeysAreNamed()
    {
        var b = Ring();
        var ex = Assert.Throws<KdumpException>(() => ReadAll(b.VmcoreInfo(null, "OFFSET(prb_desc.state_var)", "SIZE(printk_info)"), b.Build()));
        Assert.Equal("PrintkLayoutMissing", ex.ErrorId);
        Assert.Contains("OFFSET(prb_desc.state_var)", ex.Message);
        Assert.Contains("SIZE(printk_info)", ex.Message);
    }

    [Fact]
    public void OffsetsOutsideTheirStructureAreRefused()
    {
        var b = Ring();
        var vi = b.VmcoreInfo("OFFSET(printk_info.ts_nsec)=200");
        Assert.Equal("PrintkLayoutInvalid", Assert.Throws<KdumpException>(() => ReadAll(vi, b.Build())).ErrorId);
    }

    [Fact]
    public void NoPrintkSymbolsIsNotFound()
    {
        var vi = new VmcoreInfo("OSRELEASE=6.1.0\nPAGESIZE=4096\n", "test");
        var ex = Assert.Throws<KdumpException>(() => PrintkLog.EnumerateRecords(vi, new SyntheticMemory().Read));
        Assert.Equal("PrintkLogNotFound", ex.ErrorId);
        Assert.Equal(KdumpErrorKind.NotFound, ex.Kind);
        Assert.Null(PrintkLog.DetectLayout(vi));
    }
}
