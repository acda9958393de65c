using Kdump.Engine.Types;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Tests.Dwarf;

public class DwarfCorruptionTests
{
    private static byte[] ElfOf(byte[] info, byte[] abbrev, byte[] str)
    {
        var e = new ElfWriter();
        e.Add(".debug_info", info); e.Add(".debug_abbrev", abbrev); e.Add(".debug_str", str);
        return e.Build();
    }

    [Fact]
    public void TruncatedInfoIsDwarfInvalid()
    {
        var (info, abbrev, str, _) = SampleDwarf.Build(5);
        var ex = Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(ElfOf(info[..(info.Length - 7)], abbrev, str)));
        Assert.Equal("DwarfInvalid", ex.ErrorId);
        Assert.Equal(KdumpErrorKind.InvalidData, ex.Kind);
    }

    [Fact]
    public void UnsupportedVersionIsReported()
    {
        var (info, abbrev, str, _) = SampleDwarf.Build(5);
        info[4] = 9;
        var ex = Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(ElfOf(info, abbrev, str)));
        Assert.Equal("DwarfVersionUnsupported", ex.ErrorId);
    }

    [Fact]
    public void TypedefLoopIsRefusedNotStackOverflow()
    {
        var w = new DwarfWriter();
        var cu = w.Unit(5);
        var a = new Die(DwTag.Typedef).Name("loop_a");
        var b = new Die(DwTag.Typedef).Name("loop_b").Type(a);
        a.Type(b);
        var p = new Die(DwTag.PointerType).Size(8);
        p.Type(p);
        var e = new Die(DwTag.EnumerationType).Name("self_enum").Size(4);
        e.Type(e);
        var v = new Die(DwTag.Variable).Name("selfptr").Type(p);
        cu.Add(a, b, p, e, v);
        var (info, abbrev, str, _) = w.Build();
        var f = DwarfTypeFinderTests.Open(ElfOf(info, abbrev, str));
        Assert.Equal("DwarfInvalid", Assert.Throws<KdumpException>(() => f.FindType(TypeKind.Typedef, "loop_a")).ErrorId);
        Assert.Equal("DwarfInvalid", Assert.Throws<KdumpException>(() => f.FindVariableType("selfptr")).ErrorId);
        Assert.Equal("DwarfInvalid", Assert.Throws<KdumpException>(() => f.FindType(TypeKind.Enum, "self_enum")).ErrorId);
    }

    [Fact]
    public void RandomCorruptionOnlyEverThrowsKdumpException()
    {
        var (info0, abbrev0, str0, _) = SampleDwarf.Build(5, siblings: true);
        var (info4, abbrev4, str4, _) = SampleDwarf.Build(4, siblings: false);
        var rng = new Random(12345);
        int opened = 0, failed = 0;
        for (int iter = 0; iter < 400; iter++)
        {
            bool v5 = (iter & 1) == 0;
            var info = (byte[])(v5 ? info0 : info4).Clone();
            var abbrev = (byte[])(v5 ? abbrev0 : abbrev4).Clone();
            var str = v5 ? str0 : str4;
            int flips = 1 + rng.Next(4);
            for (int k = 0; k < flips; k++)
            {
                if (rng.Next(4) == 0) abbrev[rng.Next(abbrev.Length)] = (byte)rng.Next(256);
                else info[rng.Next(11, info.Length)] = (byte)rng.Next(256);
            }
            try
            {
                var f = DwarfTypeFinderTests.Open(ElfOf(info, abbrev, str));
                opened++;
                foreach (var (kind, name) in new[] { (TypeKind.Struct, "node"), (TypeKind.Struct, "holder"), (TypeKind.Struct, "user"), (TypeKind.Enum, "node_state"), (TypeKind.Typedef, "u32") })
                {
                    try { Touch(f.FindType(kind, name), 0); }
                    catch (KdumpException) { failed++; }
                }
                try { f.TryFindEnumerator("PIDTYPE_PID", out _); Touch(f.FindVariableType("node_head"), 0); }
                catch (KdumpException) { failed++; }
            }
            catch (KdumpException) { failed++; }
        }
        Assert.True(opened > 0);
    }

    private static void Touch(KType? t, int depth)
    {
        if (t is null || depth > 4) return;
        _ = t.DisplayName; _ = t.Size; _ = t.Resolve();
        switch (t)
        {
            case KStructType s: foreach (var m in s.Members) { _ = m.Name; Touch(m.Type, depth + 1); } break;
            case KRefType r: Touch(r.Target, depth + 1); break;
            case KArrayType a: Touch(a.Element, depth + 1); break;
            case KFunctionType fn: Touch(fn.ReturnType, depth + 1); foreach (var p in fn.Parameters) Touch(p.Type, depth + 1); break;
        }
    }
}

public class ElfSectionTests
{
    [Fact]
    public void NoDebugInfoMeansNoFinder()
    {
        var e = new ElfWriter();
        e.Add(".text", new byte[8], ElfWriter.ShtProgbits, ElfWriter.ShfAlloc | ElfWriter.ShfExec);
        Assert.Null(DwarfTypeFinder.TryOpen(ElfImage.FromBytes(e.Build(), "x")));
    }

    [Fact]
    public void MissingAbbrevSectionIsDwarfInvalid()
    {
        var (info, _, str, _) = SampleDwarf.Build(4);
        var e = new ElfWriter();
        e.Add(".debug_info", info); e.Add(".debug_str", str);
        // unit headers are fine; the abbreviations are needed as soon as the index reads a unit
        var ex = Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(e.Build()));
        Assert.Equal("DwarfInvalid", ex.ErrorId);
        Assert.Contains(".debug_abbrev", ex.Message);
    }

    [Fact]
    public void UnknownCompressionAndCorruptPayload()
    {
        var (info, abbrev, str, _) = SampleDwarf.Build(5);
        var e = new ElfWriter();
        var s = e.AddCompressed(".debug_info", info, 1);
        e.Add(".debug_abbrev", abbrev); e.Add(".debug_str", str);
        s.Data[0] = 7; // ch_type
        var ex = Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(e.Build()));
        Assert.Equal("VmlinuxFormatUnsupported", ex.ErrorId);
        s.Data[0] = 1;
        for (int i = 30; i < s.Data.Length; i++) s.Data[i] ^= 0x5a;
        Assert.Equal("VmlinuxInvalid", Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(e.Build())).ErrorId);
        s.Data[0] = 2; // zstd header over a zlib stream
        Assert.Equal("VmlinuxInvalid", Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(e.Build())).ErrorId);
    }

    [Fact]
    public void SectionPastEndOfFileIsInvalid()
    {
        var (info, abbrev, str, _) = SampleDwarf.Build(5);
        var e = new ElfWriter();
        e.Add(".debug_info", info); e.Add(".debug_abbrev", abbrev); e.Add(".debug_str", str);
        var bytes = e.Build();
        var img = ElfImage.FromBytes(bytes, "x");
        var sec = img.FindSection(".debug_info")!;
        // patch sh_size of .debug_info to run past the end
        long shoff = BitConverter.ToInt64(bytes, 40);
        BitConverter.GetBytes((ulong)bytes.Length).CopyTo(bytes, shoff + sec.Index * 64 + 32);
        Assert.Equal("VmlinuxInvalid", Assert.Throws<KdumpException>(() => DwarfTypeFinderTests.Open(bytes)).ErrorId);
    }
}
