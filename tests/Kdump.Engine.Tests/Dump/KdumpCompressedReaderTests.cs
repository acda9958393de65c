using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

public class KdumpCompressedReaderTests
{
    public static TheoryData<DumpCompression> Compressions => new() { DumpCompression.None, DumpCompression.Zlib, DumpCompression.Lzo, DumpCompression.Snappy, DumpCompression.Zstd };

    [Theory, MemberData(nameof(Compressions))]
    public void ReadsEveryPageWithTheRightStatus(DumpCompression c)
    {
        var w = new KdumpCompressedWriter { Compression = c };
        using var d = TestDumps.Open(w.Build());
        Assert.Equal(DumpFormat.KdumpCompressed, d.Format);
        Assert.Equal(c, d.Compression);
        Assert.Equal(4096, d.PageSize);
        Assert.Equal(256UL, d.MaxPfn);
        for (ulong pfn = 0; pfn < 260; pfn++)
        {
            var b = TestDumps.ReadPage(d, pfn, out var st);
            PageStatus want = pfn >= 256 || !w.IsRam(pfn) ? PageStatus.NotInDump : !w.IsDumped(pfn) ? PageStatus.Excluded : PageStatus.Present;
            Assert.Equal(want, st);
            Assert.Equal(want, d.GetPageStatus(pfn));
            if (st == PageStatus.Present) Assert.Equal(w.IsZero(pfn) ? new byte[4096] : w.PageData(pfn), b);
        }
        ulong ram = (ulong)Enumerable.Range(0, 256).Count(p => w.IsRam((ulong)p));
        ulong dumped = (ulong)Enumerable.Range(0, 256).Count(p => w.IsRam((ulong)p) && w.IsDumped((ulong)p));
        Assert.Equal(ram * 4096, d.PhysicalMemory);
        Assert.Equal(dumped, d.DumpedPages);
        Assert.Equal(ram - dumped, d.ExcludedPages);
        Assert.Equal(dumped, (ulong)d.EnumerateDumpedPfns().Count());
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)]
    public void ReadsEveryHeaderVersion(int version)
    {
        var w = new KdumpCompressedWriter { HeaderVersion = version, Compression = DumpCompression.Lzo, DumpLevel = 17, PhysBase = 0x2000000 };
        using var d = TestDumps.Open(w.Build(), recover: false);
        Assert.Equal(version, d.HeaderVersion);
        Assert.Equal(17, d.DumpLevel);
        Assert.Equal(new[] { "zero", "free" }, d.ExcludedPageClasses);
        Assert.Equal("6.1.0-test", d.KernelRelease);
        Assert.Equal("x86_64", d.Architecture);
        if (version >= 3)
        {
            Assert.NotNull(d.VmcoreInfo);
            Assert.Equal(0x1e000000UL, d.KaslrOffset);
            Assert.Equal("0123456789abcdef0123456789abcdef01234567", d.BuildId);
            Assert.Equal(16777216L, d.PhysBase); // VMCOREINFO wins over the sub-header
            Assert.Equal(0x2000000L, d.HeaderPhysBase);
        }
        else
        {
            Assert.Null(d.VmcoreInfo);
            Assert.Equal(0x2000000L, d.PhysBase);
        }
        Assert.Equal(w.PageData(1), TestDumps.ReadPage(d, 1, out var st));
        Assert.Equal(PageStatus.Present, st);
    }

    [Theory]
    [InlineData(true, false, "x86_64")]
    [InlineData(false, false, "i686")]
    [InlineData(true, true, "ppc64")]
    [InlineData(false, true, "ppc")]
    public void ReadsOtherWordSizesAndByteOrders(bool is64, bool bigEndian, string machine)
    {
        var w = new KdumpCompressedWriter { Is64 = is64, BigEndian = bigEndian, Machine = machine, Compression = DumpCompression.Zlib };
        using var d = TestDumps.Open(w.Build());
        Assert.Equal(machine, d.Architecture);
        Assert.Equal("6.1.0-test", d.VmcoreInfo?.OsRelease);
        for (ulong pfn = 1; pfn < 20; pfn++)
            if (w.IsDumped(pfn) && !w.IsZero(pfn)) Assert.Equal(w.PageData(pfn), TestDumps.ReadPage(d, pfn, out _));
    }

    [Fact]
    public void ReportsCpuRegistersFromNotes()
    {
        var w = new KdumpCompressedWriter();
        w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(0, new Dictionary<string, ulong> { ["rip"] = 0xffffffff81000010, ["rsp"] = 0xffffc90000003e00 })));
        w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(1234, new Dictionary<string, ulong> { ["rip"] = 0xffffffff81234567, ["gs_base"] = 0xffff88801fc00000 })));
        using var d = TestDumps.Open(w.Build());
        Assert.Equal(2, d.CpuCount);
        Assert.Equal(1234, d.Cpus[1].Pid);
        Assert.Equal(0xffffffff81234567UL, d.Cpus[1].Rip);
        Assert.Equal(0xffffc90000003e00UL, d.Cpus[0].Rsp);
        Assert.Equal(0xffff88801fc00000UL, d.Cpus[1].GsBase);
        Assert.Null(d.PanicCpu); // two CPUs, nothing says which panicked
        Assert.Contains(d.Notes, n => n.TypeName == "NT_PRSTATUS" && n.Size == 336);
        Assert.Contains(d.Notes, n => n.TypeName == "VMCOREINFO");
    }

    [Fact]
    public void IncompleteDumpReportsLostPages()
    {
        var w = new KdumpCompressedWriter { Compression = DumpCompression.Zlib, WrittenDescriptors = 50 };
        using var d = TestDumps.Open(w.Build());
        Assert.True(d.Incomplete);
        var dumped = d.EnumerateDumpedPfns().ToList();
        Assert.Equal((ulong)(dumped.Count - 50), d.LostPages);
        Assert.Equal(PageStatus.Present, d.ReadPage(dumped[49], new byte[4096]));
        Assert.Equal(PageStatus.Lost, d.ReadPage(dumped[50], new byte[4096]));
        var ex = Assert.Throws<MemoryFaultException>(() => d.ReadPhysical(dumped[50] * 4096 + 8, new byte[8]));
        Assert.Equal("PageLost", ex.ErrorId);
        Assert.Equal(dumped[50] * 4096 + 8, ex.Address);
    }

    [Fact]
    public void GarbageCompressedPageIsCorruptWithItsAddress()
    {
        var w = new KdumpCompressedWriter { Compression = DumpCompression.Zlib, StoreRaw = _ => false, Mangle = (pfn, b) => pfn == 3 ? b.Select((x, i) => i > 2 ? (byte)0xa5 : x).ToArray() : b };
        using var d = TestDumps.Open(w.Build());
        var ex = Assert.Throws<MemoryFaultException>(() => d.ReadPhysical(3 * 4096, new byte[16]));
        Assert.Equal("PageCorrupt", ex.ErrorId);
        Assert.Equal(3UL * 4096, ex.Address);
        Assert.Contains("0x3000", ex.Message);
        Assert.Equal(w.PageData(2), TestDumps.ReadPage(d, 2, out _));
    }

    [Fact]
    public void TryReadPhysicalStopsAtTheFirstUnreadablePage()
    {
        var w = new KdumpCompressedWriter();
        using var d = TestDumps.Open(w.Build());
        // pfn 6 is dumped, pfn 7 is excluded (7 % 7 == 0).
        var buf = new byte[8192];
        int n = d.TryReadPhysical(6 * 4096 + 100, buf, out var st);
        Assert.Equal(4096 - 100, n);
        Assert.Equal(PageStatus.Excluded, st);
        Assert.Equal(w.PageData(6).AsSpan(100).ToArray(), buf[..n]);
        n = d.TryReadPhysical(170 * 4096, buf, out st);
        Assert.Equal(0, n);
        Assert.Equal(PageStatus.NotInDump, st);
    }

    [Fact]
    public void BulkParallelReadMatchesSingleReads()
    {
        var w = new KdumpCompressedWriter { Compression = DumpCompression.Zstd, MaxMapnr = 2048, IsRam = _ => true };
        using var d = TestDumps.Open(w.Build());
        var st = new PageStatus[2048];
        var buf = new byte[2048 * 4096];
        d.ReadPages(0, buf, st);
        for (ulong p = 0; p < 2048; p += 13)
        {
            var one = TestDumps.ReadPage(d, p, out var s1);
            Assert.Equal(s1, st[p]);
            Assert.Equal(one, buf.AsSpan((int)p * 4096, 4096).ToArray());
        }
        // A large ReadPhysical gives the same bytes.
        var big = new byte[64 * 4096];
        int n = d.TryReadPhysical(8 * 4096, big, out _);
        Assert.Equal(buf.AsSpan(8 * 4096, n).ToArray(), big[..n]);
    }
}
