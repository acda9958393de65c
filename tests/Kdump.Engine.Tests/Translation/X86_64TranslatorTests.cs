using Kdump.Engine.Dump;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests.Translation;

public class X86_64TranslatorTests
{
    private static (FakePhysicalMemory, PageTableBuilder, X86_64Translator) Setup(int levels = 4, ISymbolValues? syms = null, ulong? pob = 0xffff888000000000UL)
    {
        var mem = new FakePhysicalMemory();
        var pt = new PageTableBuilder(mem, levels);
        var tr = new X86_64Translator(new PhysicalReader(mem), new X86_64TranslatorOptions
        {
            PagingLevels = levels, KernelPageTableRoot = pt.Root, PageOffsetBase = pob, PhysBase = 0,
        }, syms);
        return (mem, pt, tr);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Walks4KPages(int levels)
    {
        var (mem, pt, tr) = Setup(levels);
        ulong va = levels == 5 ? 0xff5000001234_5000UL : 0xffffc90000345000UL;
        pt.Map4K(va, 0x7654000, PageTableBuilder.Rw | (1UL << 63));
        var t = tr.Translate(va + 0x123, AddressSpace.KernelVirtual);
        Assert.Equal(TranslationStatus.Mapped, t.Status);
        Assert.True(t.Present);
        Assert.Equal(0x7654123UL, t.PhysicalAddress);
        Assert.Equal(4096UL, t.PageSize);
        Assert.Equal(levels, t.Levels.Count);
        Assert.Equal(levels == 5 ? new[] { "PGD", "P4D", "PUD", "PMD", "PTE" } : new[] { "PGD", "PUD", "PMD", "PTE" }, t.Levels.Select(l => l.Name));
        Assert.Equal(0x7654000UL | 3 | (1UL << 63), t.Levels[^1].EntryValue);
        Assert.True(t.Levels[^1].Flags.HasFlag(X86PteFlags.NoExecute));
        Assert.Equal(0x7654123UL, tr.ToPhysical(va + 0x123, AddressSpace.KernelVirtual));
    }

    [Fact]
    public void Walks2MAnd1GPages()
    {
        var (_, pt, tr) = Setup();
        pt.Map2M(0xffffc90000200000UL, 0x40000000);
        pt.Map1G(0xffffc98000000000UL, 0x80000000);
        var t2 = tr.Translate(0xffffc900002abcdeUL, AddressSpace.KernelVirtual);
        Assert.Equal(0x400abcdeUL, t2.PhysicalAddress);
        Assert.Equal(2UL << 20, t2.PageSize);
        Assert.Equal(3, t2.Levels.Count);
        var t1 = tr.Translate(0xffffc98012345678UL, AddressSpace.KernelVirtual);
        Assert.Equal(0x92345678UL, t1.PhysicalAddress);
        Assert.Equal(1UL << 30, t1.PageSize);
        Assert.Equal("PUD", t1.Levels[^1].Name);
    }

    [Fact]
    public void DecodesSwapEntryWithInvertedOffset()
    {
        var (_, pt, tr) = Setup();
        ulong va = 0x00007f0000001000UL;
        // __swp_entry(type=3, offset=0x1234): ~offset << 14 >> 5 | type << 59
        ulong raw = (~0x1234UL << 14 >> 5) | (3UL << 59);
        pt.SetPte(va, raw);
        var t = tr.Translate(va, AddressSpace.UserVirtual(pt.Root));
        Assert.Equal(TranslationStatus.Swapped, t.Status);
        Assert.False(t.Present);
        Assert.Equal(3u, t.SwapType);
        Assert.Equal(0x1234UL, t.SwapOffset);
        Assert.Equal("(swap entry)", t.Levels[^1].FlagText);
        Assert.Null(t.PhysicalAddress);
        var ex = Assert.Throws<AddressTranslationException>(() => tr.ToPhysical(va, AddressSpace.UserVirtual(pt.Root)));
        Assert.Equal("PageSwappedOut", ex.ErrorId);
    }

    [Fact]
    public void ProtNoneStillMapsWithInvertedPfn()
    {
        var (_, pt, tr) = Setup();
        ulong va = 0x00005555_0000_0000UL;
        ulong pfnBits = 0x123456000UL;
        ulong raw = ((~pfnBits) & 0x000ffffffffff000UL) | 0x100 | 0x4 | 0x60; // PROTNONE|USER|A|D, present clear
        pt.SetPte(va, raw);
        var t = tr.Translate(va + 8, AddressSpace.UserVirtual(pt.Root));
        Assert.Equal(TranslationStatus.ProtNone, t.Status);
        Assert.Equal(pfnBits + 8, t.PhysicalAddress);
        Assert.Contains("PROTNONE", t.Levels[^1].FlagText);
    }

    [Fact]
    public void UnmappedIsAResultAndAddressNotMappedOnRead()
    {
        var (_, pt, tr) = Setup();
        var t = tr.Translate(0xffffc90000001000UL, AddressSpace.KernelVirtual);
        Assert.Equal(TranslationStatus.NotMapped, t.Status);
        Assert.Single(t.Levels);
        var ex = Assert.Throws<AddressTranslationException>(() => tr.ToPhysical(0xffffc90000001000UL, AddressSpace.KernelVirtual));
        Assert.Equal("AddressNotMapped", ex.ErrorId);
        Assert.Equal(0xffffc90000001000UL, ex.Address);
        Assert.False(tr.TryToPhysical(0xffffc90000001000UL, AddressSpace.KernelVirtual, out _));
    }

    [Fact]
    public void ExcludedTablePageIsPageExcludedNotUnmapped()
    {
        var (mem, pt, tr) = Setup();
        ulong va = 0xffffc90000345000UL;
        pt.Map4K(va, 0x7654000);
        ulong pteTable = pt.EntryAddress(va, 12) & ~0xfffUL;
        mem.SetStatus(pteTable / 4096, PageStatus.Excluded);
        var ex = Assert.Throws<AddressTranslationException>(() => tr.Translate(va, AddressSpace.KernelVirtual));
        Assert.Equal("PageExcluded", ex.ErrorId);
        Assert.Equal(3, ex.Levels.Count); // PGD, PUD, PMD read before the PTE table failed
    }

    [Fact]
    public void TableOutsideDumpIsReported()
    {
        var (mem, pt, tr) = Setup();
        ulong va = 0xffffc90000345000UL;
        // a PMD entry pointing far beyond the dump
        mem.WriteU64(pt.EntryAddress(va, 21), (1UL << 45) | 0x63);
        var ex = Assert.Throws<AddressTranslationException>(() => tr.Translate(va, AddressSpace.KernelVirtual));
        Assert.Equal("PageTableOutsideDump", ex.ErrorId);
    }

    [Fact]
    public void SelfReferencingTablesTerminate()
    {
        var (mem, pt, tr) = Setup();
        // PGD entry points back at the PGD itself: the walk is depth-bounded and ends at a leaf/non-present entry.
        const ulong i = 0x1ed;
        ulong va = 0xffff000000000000UL | (i << 39) | (i << 30) | (i << 21) | (i << 12);
        mem.WriteU64(pt.Root + i * 8, pt.Root | 0x63);
        var t = tr.Translate(va, AddressSpace.KernelVirtual);
        Assert.Equal(4, t.Levels.Count);
        Assert.Equal(pt.Root, t.PhysicalAddress);
    }

    [Fact]
    public void NonCanonicalAddressIsRejected()
    {
        var (_, _, tr) = Setup();
        var ex = Assert.Throws<AddressTranslationException>(() => tr.Translate(0x0000900000000000UL, AddressSpace.KernelVirtual));
        Assert.Equal("AddressNotCanonical", ex.ErrorId);
    }

    [Fact]
    public void KernelTextUsesPhysBaseIncludingNegative()
    {
        var mem = new FakePhysicalMemory();
        var tr = new X86_64Translator(new PhysicalReader(mem), new X86_64TranslatorOptions { PhysBase = -0x1000000, PageOffsetBase = 0xffff888000000000UL });
        Assert.True(tr.TryToPhysical(0xffffffff82000000UL, AddressSpace.KernelVirtual, out var pa));
        Assert.Equal(0x1000000UL, pa);
        Assert.Equal(0xffff888000001000UL, tr.PhysicalToKernelVirtual(0x1000));
        Assert.True(tr.TryToPhysical(0xffff888000005008UL, AddressSpace.KernelVirtual, out pa));
        Assert.Equal(0x5008UL, pa);
    }

    [Fact]
    public void PageOffsetBaseFromSymbolOrPageTables()
    {
        var mem = new FakePhysicalMemory();
        var pt = new PageTableBuilder(mem);
        // page_offset_base variable at kernel va 0xffffffff82000100 -> pa 0x2000100 (phys_base 0)
        mem.WriteU64(0x2000100, 0xffff9a4000000000UL);
        var syms = new DelegateSymbolValues(n => n == "page_offset_base" ? 0xffffffff82000100UL : null);
        var tr = new X86_64Translator(new PhysicalReader(mem), new X86_64TranslatorOptions { KernelPageTableRoot = pt.Root }, syms);
        Assert.Equal(0xffff9a4000000000UL, tr.PageOffsetBase);
        Assert.Equal("symbol", tr.PageOffsetBaseSource);

        // without the symbol: the first 1 GiB mapping of physical 0 in the randomized region
        pt.Map1G(0xffff9b0000000000UL, 0);
        var tr2 = new X86_64Translator(new PhysicalReader(mem), new X86_64TranslatorOptions { KernelPageTableRoot = pt.Root });
        Assert.Equal(0xffff9b0000000000UL, tr2.PageOffsetBase);
        Assert.Equal("page tables", tr2.PageOffsetBaseSource);
    }

    [Fact]
    public void OptionsFromVmcoreInfo()
    {
        var info = new VmcoreInfo("OSRELEASE=6.1.0\nKERNELOFFSET=1e000000\nNUMBER(phys_base)=-1048576\nNUMBER(pgtable_l5_enabled)=1\nSYMBOL(init_top_pgt)=ffffffff9f80a000\n", "test");
        var o = X86_64Translator.OptionsFrom(info);
        Assert.Equal(5, o.PagingLevels);
        Assert.Equal(-1048576L, o.PhysBase);
        Assert.Equal(0x1e000000UL, o.KernelOffset);
        Assert.Equal(0xffffffff9f80a000UL - 0xffffffff80000000UL - 0x100000UL, o.KernelPageTableRoot);
        Assert.Equal("SYMBOL(init_top_pgt)", o.KernelPageTableRootSource);
    }

    [Fact]
    public void Cr3IsUsedWhenNoSymbol()
    {
        var o = X86_64Translator.OptionsFrom(new VmcoreInfo("OSRELEASE=6.1.0\n", "t"), new[] { new CpuState { Cpu = 0, Cr3 = 0x1a0e000 | 0x800000000000001UL } });
        var tr = new X86_64Translator(new PhysicalReader(new FakePhysicalMemory()), o);
        Assert.Equal(0x1a0e000UL, tr.KernelPageTableRoot & 0xfffffff000UL);
        Assert.Equal("CR3 of CPU 0", tr.KernelPageTableRootSource);
    }
}
