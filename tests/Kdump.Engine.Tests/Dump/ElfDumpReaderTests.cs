using Kdump.Engine.Dump;
using Kdump.Engine.Tests.Writers;

namespace Kdump.Engine.Tests.Dump;

public class ElfDumpReaderTests
{
    private const string Vi = "OSRELEASE=6.1.0-elf\nBUILD-ID=aa\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffffffff8260a000\nNUMBER(phys_base)=-16777216\nKERNELOFFSET=2a000000\nCRASHTIME=1700000000\n";

    /// <summary>The kernel's layout: _text PT_LOAD (virtual kernel address) + direct-map RAM ranges repeating it.</summary>
    private static ElfVmcoreWriter KernelBuilt()
    {
        var w = new ElfVmcoreWriter();
        w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(77, new Dictionary<string, ulong> { ["rip"] = 0xffffffff8100abcd })));
        w.AddVmcoreInfo(Vi);
        w.AddRam(0x10000, 0x4000, vaddr: 0xffffffff81000000);              // kernel text, same memory as below
        w.AddRam(0x1000, 0x9e000, vaddr: 0xffff888000001000);                // [4K, 636K)
        w.AddRam(0x100000, 0x100000, vaddr: 0xffff888000100000);            // [1M, 2M)
        return w;
    }

    [Fact]
    public void KernelBuiltElfTranslatesByPaddrAndDeduplicates()
    {
        var w = KernelBuilt();
        using var d = TestDumps.Open(w.Build());
        Assert.Equal(DumpFormat.Elf, d.Format);
        Assert.Equal("kernel", d.Producer);
        Assert.Equal("6.1.0-elf", d.KernelRelease);
        Assert.Equal(-16777216L, d.PhysBase);
        Assert.Equal(0x2a000000UL, d.KaslrOffset);
        Assert.Equal("x86_64", d.Architecture);
        Assert.Equal(1, d.CpuCount);
        Assert.Equal(0, d.PanicCpu);
        Assert.Equal(77, d.Cpus[0].Pid);
        Assert.Equal(0xffffffff8100abcdUL, d.Cpus[0].Rip);
        Assert.Equal((0x9eUL + 0x100) * 4096, d.PhysicalMemory);
        Assert.Equal(0x9eUL + 0x100, d.DumpedPages);
        Assert.Equal(0UL, d.ExcludedPages);
        foreach (ulong pfn in new ulong[] { 1, 0x10, 0x13, 0x9e, 0x100, 0x1ff })
            Assert.Equal(SyntheticMemory.Page(pfn), TestDumps.ReadPage(d, pfn, out _));
        Assert.Equal(PageStatus.NotInDump, d.GetPageStatus(0));
        Assert.Equal(PageStatus.NotInDump, d.GetPageStatus(0xa0));
        Assert.Equal(PageStatus.NotInDump, d.GetPageStatus(0x200));
        Assert.Equal(0x9eUL + 0x100, (ulong)d.EnumerateDumpedPfns().Count());
    }

    [Fact]
    public void SparseSegmentsAreExcludedAndIncompleteFlagIsRead()
    {
        var w = new ElfVmcoreWriter { Flags = 1 }.AddVmcoreInfo(Vi);
        w.AddRam(0, 0x10000, fileSize: 0x4000);
        using var d = TestDumps.Open(w.Build());
        Assert.True(d.Incomplete);
        Assert.Equal("makedumpfile", d.Producer);
        Assert.Equal(PageStatus.Present, d.GetPageStatus(3));
        Assert.Equal(PageStatus.Excluded, d.GetPageStatus(4));
        Assert.Equal(PageStatus.Excluded, d.ReadPage(15, new byte[4096]));
        Assert.Equal(4UL, d.DumpedPages);
        Assert.Equal(12UL, d.ExcludedPages);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void QemuElfWithPnXnumAndSectionHeadersFirst(bool xnum, bool shFirst)
    {
        var w = new ElfVmcoreWriter { ForcePnXnum = xnum, SectionHeadersFirst = shFirst };
        w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(0, new Dictionary<string, ulong>())));
        w.Notes.Add(("CORE", 1, NoteWriter.PrStatusX86_64(0, new Dictionary<string, ulong>())));
        w.Notes.Add(("QEMU", 0, NoteWriter.QemuCpuState(0xffffffff81000000, 0xffffc90000000000, 0x10a000, gsBase: 0xffff88807fc00000, kernelGsBase: 0x7f0000)));
        w.Notes.Add(("QEMU", 0, NoteWriter.QemuCpuState(0xffffffff81000100, 0xffffc90000001000, 0x10b000)));
        for (ulong i = 0; i < 300; i++) w.AddRam(i * 0x2000, 0x1000, vaddr: 0xffff888000000000 + i * 0x2000); // 300 PT_LOADs
        using var d = TestDumps.Open(w.Build(), recover: false);
        Assert.Equal("QEMU dump-guest-memory", d.Producer);
        Assert.Equal(2, d.CpuCount);
        Assert.Equal(0x10a000UL, d.Cpus[0].Cr3);
        Assert.Equal(0x10b000UL, d.Cpus[1].Cr3);
        Assert.Equal(0x7f0000UL, d.Cpus[0].KernelGsBase);
        Assert.Equal(0xffff88807fc00000UL, d.Cpus[0].GsBase);
        Assert.Null(d.PanicCpu);
        Assert.Equal(SyntheticMemory.Page(298), TestDumps.ReadPage(d, 298, out _));
        Assert.Equal(PageStatus.NotInDump, d.GetPageStatus(299));
        Assert.Equal(300UL, d.DumpedPages);
        Assert.Null(d.VmcoreInfo);
    }

    [Fact]
    public void RecoversVmcoreInfoFromMemoryWithAWarning()
    {
        var w = new ElfVmcoreWriter();
        var viPage = new byte[4096];
        System.Text.Encoding.ASCII.GetBytes("OSRELEASE=6.1.0-recovered\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a1b2c0\nSYMBOL(swapper_pg_dir)=ffffffff8260a000\nOFFSET(uts_namespace.name)=0\nSIZE(page)=64\nKERNELOFFSET=3c000000\nNUMBER(phys_base)=0\n").CopyTo(viPage, 0);
        var decoy = new byte[4096];
        System.Text.Encoding.ASCII.GetBytes("OSRELEASE=%s\n\0PAGESIZE=%ld\n\0").CopyTo(decoy, 100);
        w.PageData = pfn => pfn == 5 ? viPage : pfn == 2 ? decoy : SyntheticMemory.Page(pfn);
        w.AddRam(0, 0x10000);
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = TestDumps.Open(w.Build(), host: host);
        Assert.NotNull(d.VmcoreInfo);
        Assert.Equal("6.1.0-recovered", d.KernelRelease);
        Assert.Equal(0x3c000000UL, d.KaslrOffset);
        Assert.Contains("0x5000", d.VmcoreInfo!.Origin);
        Assert.Contains(warnings, s => s.Contains("recovered", StringComparison.Ordinal));
    }

    [Fact]
    public void TruncatedElfOpensIncompleteAndReadsLost()
    {
        var w = KernelBuilt();
        var full = w.Build();
        var cut = full[..(full.Length - 0x3000)];
        var (warnings, host) = TestDumps.CapturingHost();
        using var d = TestDumps.Open(cut, host: host);
        Assert.Contains(d.Problems, p => p.Contains("p_offset", StringComparison.Ordinal));
        Assert.True(d.Incomplete);
        Assert.Equal(PageStatus.Lost, d.ReadPage(0x1ff, new byte[4096]));
        Assert.Equal(PageStatus.Present, d.ReadPage(0x1fc, new byte[4096]));
        Assert.Equal(3UL, d.LostPages);
        Assert.NotEmpty(warnings);
    }
}
