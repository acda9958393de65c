using System.Buffers.Binary;
using System.Text;
using Kdump.Engine.Symbols;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Tests;

/// <summary>Kernel virtual memory made of byte regions (for tests of readers that work on kernel addresses).</summary>
public sealed class FakeKernelMemory : IKernelMemory
{
    private readonly List<(ulong Va, byte[] Data)> _regions = new();
    public IReadOnlyList<(ulong Va, byte[] Data)> Regions => _regions;
    /// <summary>Maps bytes at va; like real memory the region is padded to whole 4 KiB pages.</summary>
    public void Add(ulong va, byte[] data)
    {
        var padded = new byte[(data.Length + 4095 + (int)(va & 4095)) / 4096 * 4096];
        data.CopyTo(padded, (int)(va & 4095));
        _regions.Insert(0, (va & ~4095UL, padded));
    }
    public void ReadKernel(ulong address, Span<byte> destination)
    {
        foreach (var (va, data) in _regions)
            if (address >= va && address - va + (ulong)destination.Length <= (ulong)data.Length)
            { data.AsSpan((int)(address - va), destination.Length).CopyTo(destination); return; }
        throw new AddressTranslationException("AddressNotMapped", KdumpErrorKind.Unavailable, $"0x{address:x} not mapped", address, AddressSpace.KernelVirtual);
    }
}

/// <summary>Writes kallsyms tables (names, token table/index, num_syms, offsets/addresses) the way the kernel lays them out.</summary>
public static class KallsymsBuilder
{
    public const ulong Base = 0xffffffff82000000UL;

    public static (FakeKernelMemory Memory, string VmcoreInfo) Build(IReadOnlyList<(string Name, char Type, ulong Address)> syms, KallsymsEncoding enc, ulong relBase)
    {
        // tokens: byte values 1..127 stand for themselves; 128.. a few multi-char tokens
        var tokens = new string[256];
        for (int i = 0; i < 128; i++) tokens[i] = i == 0 ? "\u0001" : ((char)i).ToString();
        string[] multi = { "init_", "_task", "task", "sys_", "kallsyms", "per_cpu", "__", "pid", "Tstart" };
        for (int i = 0; i < multi.Length; i++) tokens[128 + i] = multi[i];
        for (int i = 128 + multi.Length; i < 256; i++) tokens[i] = "\u0002" + i;
        var tokTable = new List<byte>();
        var tokIndex = new byte[512];
        for (int i = 0; i < 256; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(tokIndex.AsSpan(i * 2), (ushort)tokTable.Count);
            tokTable.AddRange(Encoding.ASCII.GetBytes(tokens[i])); tokTable.Add(0);
        }
        var names = new List<byte>();
        foreach (var (name, type, _) in syms)
        {
            var s = type + name;
            var enc2 = new List<byte>();
            for (int p = 0; p < s.Length;)
            {
                int best = s[p], bestLen = 1;
                for (int t = 128; t < 128 + multi.Length; t++)
                    if (string.CompareOrdinal(s, p, tokens[t], 0, tokens[t].Length) == 0 && tokens[t].Length > bestLen) { best = t; bestLen = tokens[t].Length; }
                enc2.Add((byte)best); p += bestLen;
            }
            if (enc2.Count > 127) { names.Add((byte)(0x80 | (enc2.Count & 0x7f))); names.Add((byte)(enc2.Count >> 7)); }
            else names.Add((byte)enc2.Count);
            names.AddRange(enc2);
        }
        var mem = new FakeKernelMemory();
        ulong numVa = Base, namesVa = Base + 0x1000, tokTableVa = Base + 0x100000, tokIndexVa = Base + 0x110000, offVa = Base + 0x200000, relVa = Base + 0x300000;
        var num = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(num, (uint)syms.Count);
        mem.Add(numVa, num);
        mem.Add(namesVa, names.ToArray());
        mem.Add(tokTableVa, tokTable.ToArray());
        mem.Add(tokIndexVa, tokIndex);
        var sb = new StringBuilder("OSRELEASE=6.1.0-test\n");
        sb.Append($"SYMBOL(kallsyms_names)={namesVa:x}\nSYMBOL(kallsyms_num_syms)={numVa:x}\nSYMBOL(kallsyms_token_table)={tokTableVa:x}\nSYMBOL(kallsyms_token_index)={tokIndexVa:x}\n");
        if (enc == KallsymsEncoding.Absolute)
        {
            var a = new byte[syms.Count * 8];
            for (int i = 0; i < syms.Count; i++) BinaryPrimitives.WriteUInt64LittleEndian(a.AsSpan(i * 8), syms[i].Address);
            mem.Add(offVa, a);
            sb.Append($"SYMBOL(kallsyms_addresses)={offVa:x}\n");
        }
        else
        {
            var o = new byte[syms.Count * 4];
            for (int i = 0; i < syms.Count; i++)
            {
                ulong addr = syms[i].Address;
                uint v = enc switch
                {
                    KallsymsEncoding.BaseRelative => (uint)(addr - relBase),
                    KallsymsEncoding.BaseRelativeAbsolutePercpu => addr < 0x80000000UL ? (uint)addr : (uint)(int)-(long)(addr - relBase + 1),
                    _ => (uint)(int)(long)(addr - (offVa + (ulong)i * 4)),
                };
                BinaryPrimitives.WriteUInt32LittleEndian(o.AsSpan(i * 4), v);
            }
            mem.Add(offVa, o);
            sb.Append($"SYMBOL(kallsyms_offsets)={offVa:x}\n");
            if (enc != KallsymsEncoding.PlaceRelative)
            {
                var rb = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(rb, relBase);
                mem.Add(relVa, rb);
                sb.Append($"SYMBOL(kallsyms_relative_base)={relVa:x}\n");
            }
        }
        var stext = syms.First(s => s.Name == "_stext");
        sb.Append($"SYMBOL(_stext)={stext.Address:x}\n");
        return (mem, sb.ToString());
    }
}
