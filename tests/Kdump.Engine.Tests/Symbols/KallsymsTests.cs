using System.Diagnostics;
using Kdump.Engine.Dump;
using Kdump.Engine.Symbols;

namespace Kdump.Engine.Tests.Symbols;

public class KallsymsTests
{
    private const ulong Text = 0xffffffff9a000000UL;

    private static List<(string, char, ulong)> Sample()
    {
        var list = new List<(string, char, ulong)>
        {
            ("fixed_percpu_data", 'D', 0x0),
            ("cpu_number", 'D', 0x1f0a8),
            ("_text", 'T', Text),
            ("_stext", 'T', Text + 0x1000),
            ("start_kernel", 'T', Text + 0x2000),
            ("init_task", 'D', Text + 0x1a00000),
            ("local_helper", 't', Text + 0x2100),
            ("sys_call_table", 'R', Text + 0x1000000),
            ("kallsyms_names", 'R', Text + 0x1100000),
            ("dup", 't', Text + 0x3000),
            ("dup", 'T', Text + 0x4000),
            (new string('x', 200) + "_long_symbol", 't', Text + 0x5000),
            ("_end", 'B', Text + 0x3000000),
        };
        return list;
    }

    [Theory]
    [InlineData(KallsymsEncoding.Absolute)]
    [InlineData(KallsymsEncoding.BaseRelative)]
    [InlineData(KallsymsEncoding.BaseRelativeAbsolutePercpu)]
    [InlineData(KallsymsEncoding.PlaceRelative)]
    public void DecodesEachEncoding(KallsymsEncoding enc)
    {
        var syms = Sample();
        if (enc == KallsymsEncoding.BaseRelative) syms.RemoveAll(s => s.Item3 < Text); // no absolute per-cpu entries
        var (mem, vmcoreinfo) = KallsymsBuilder.Build(syms, enc, Text);
        var table = Kallsyms.Load(mem, new VmcoreInfo(vmcoreinfo, "test"), out var got);
        Assert.Equal(enc == KallsymsEncoding.BaseRelative ? KallsymsEncoding.BaseRelative : enc, got);
        Assert.Equal(syms.Count, table.Count);
        foreach (var (name, type, addr) in syms.Where(s => s.Item1 != "dup"))
        {
            var s = table.FindByName(name);
            Assert.NotNull(s);
            Assert.Equal(addr, s!.Address);
            Assert.Equal(type, s.Type);
        }
        Assert.Equal('T', table.FindByName("dup")!.Type); // global preferred
        var hit = table.FindByAddress(Text + 0x2010);
        Assert.Equal("start_kernel", hit!.Value.Symbol.Name);
        Assert.Equal(0x10UL, hit.Value.Offset);
        Assert.Equal("start_kernel+0x10", hit.Value.ToString());
        Assert.Null(table.FindByAddress(0x1000)); // per-cpu offsets are not code addresses
        Assert.Null(table.FindByName("nonexistent"));
    }

    [Fact]
    public void PicksEncodingThatReproducesStext()
    {
        // Tables written base-relative: the absolute-percpu reading gives a different _stext, so base-relative wins.
        var syms = Sample().Where(s => s.Item3 >= Text).ToList();
        var (mem, vi) = KallsymsBuilder.Build(syms, KallsymsEncoding.BaseRelative, Text - 0x10);
        Kallsyms.Load(mem, new VmcoreInfo(vi, "t"), out var got);
        Assert.Equal(KallsymsEncoding.BaseRelative, got);
    }

    [Fact]
    public void WrongStextIsReported()
    {
        var (mem, vi) = KallsymsBuilder.Build(Sample(), KallsymsEncoding.BaseRelativeAbsolutePercpu, Text);
        vi = vi.Replace($"SYMBOL(_stext)={Text + 0x1000:x}", "SYMBOL(_stext)=ffffffff81000000");
        var ex = Assert.Throws<KdumpException>(() => Kallsyms.Load(mem, new VmcoreInfo(vi, "t"), out _));
        Assert.Equal("KallsymsEncodingUnknown", ex.ErrorId);
    }

    [Fact]
    public void CorruptCountIsRejected()
    {
        var (mem, vi) = KallsymsBuilder.Build(Sample(), KallsymsEncoding.Absolute, Text);
        mem.Add(0xffffffff81000000UL, new byte[] { 0xff, 0xff, 0xff, 0xff });
        vi = vi.Replace($"SYMBOL(kallsyms_num_syms)={KallsymsBuilder.Base:x}", "SYMBOL(kallsyms_num_syms)=ffffffff81000000");
        var ex = Assert.Throws<KdumpException>(() => Kallsyms.Load(mem, new VmcoreInfo(vi, "t"), out _));
        Assert.Equal("KallsymsCorrupt", ex.ErrorId);
    }

    [Fact]
    public void MissingVmcoreInfoSymbolsIsUnavailable()
    {
        var ex = Assert.Throws<KdumpException>(() => Kallsyms.Load(new FakeKernelMemory(), new VmcoreInfo("OSRELEASE=5.10\n", "t"), out _));
        Assert.Equal("KallsymsUnavailable", ex.ErrorId);
    }

    [Fact]
    public void HundredThousandSymbolsDecode()
    {
        var syms = new List<(string, char, ulong)> { ("_stext", 'T', Text) };
        for (int i = 0; i < 100_000; i++) syms.Add(($"sym_{i}_task_init_", i % 3 == 0 ? 'T' : 't', Text + 0x10 + (ulong)i * 16));
        var (mem, vi) = KallsymsBuilder.Build(syms, KallsymsEncoding.BaseRelativeAbsolutePercpu, Text);
        var info = new VmcoreInfo(vi, "t");
        var t = Kallsyms.Load(mem, info, out _);
        Assert.Equal(100_001, t.Count);
        Assert.Equal(Text + 0x10 + 77_777UL * 16, t.FindByName("sym_77777_task_init_")!.Address);
        Assert.Equal("sym_0_task_init_", t.FindByAddress(Text + 0x10)!.Value.Symbol.Name);
        // speed is measured by bench/Open-Kernel.ps1, never by a timed unit test
    }
}
