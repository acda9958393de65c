using System.Buffers.Binary;
using Kdump.Engine.Dump;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Symbols;

/// <summary>How kallsyms stores symbol addresses.</summary>
public enum KallsymsEncoding
{
    /// <summary>kallsyms_addresses[]: unsigned long per symbol (kernels before 6.11 without base-relative).</summary>
    Absolute,
    /// <summary>kallsyms_offsets[] (u32) + kallsyms_relative_base.</summary>
    BaseRelative,
    /// <summary>kallsyms_offsets[] (s32): ≥0 absolute (per-cpu), &lt;0 → relative_base - 1 - offset.</summary>
    BaseRelativeAbsolutePercpu,
    /// <summary>kallsyms_offsets[] (s32) relative to the address of the entry itself (Linux 7.0+).</summary>
    PlaceRelative,
}

/// <summary>
/// Decodes the kernel's compressed symbol table (kallsyms) from the dump's memory, located through VMCOREINFO's
/// SYMBOL(kallsyms_*) entries (Linux 6.0+). The address encoding is chosen as the one that reproduces
/// SYMBOL(_stext) (or _stext = 0xffffffff81000000 + KERNELOFFSET on x86_64).
/// </summary>
public static class Kallsyms
{
    public const int MaxSymbols = 4_000_000;
    private const int MaxNamesBytes = 128 << 20;

    /// <summary>True when VMCOREINFO carries the kallsyms symbols.</summary>
    public static bool IsAvailable(VmcoreInfo info) =>
        info.TryGetSymbol("kallsyms_names", out _) && info.TryGetSymbol("kallsyms_num_syms", out _)
        && info.TryGetSymbol("kallsyms_token_table", out _) && info.TryGetSymbol("kallsyms_token_index", out _)
        && (info.TryGetSymbol("kallsyms_offsets", out _) || info.TryGetSymbol("kallsyms_addresses", out _));

    /// <summary>Loads the kernel's kallsyms. Throws KallsymsUnavailable / KallsymsCorrupt.</summary>
    public static SymbolTable Load(IKernelMemory memory, VmcoreInfo info, out KallsymsEncoding encoding, ulong? expectedStext = null)
    {
        if (!IsAvailable(info))
            throw new KdumpException("KallsymsUnavailable", KdumpErrorKind.Unavailable,
                "VMCOREINFO has no SYMBOL(kallsyms_*) entries (they exist since Linux 6.0).", info.OsRelease);
        info.TryGetSymbol("kallsyms_names", out var namesVa);
        info.TryGetSymbol("kallsyms_num_syms", out var numVa);
        info.TryGetSymbol("kallsyms_token_table", out var tokTableVa);
        info.TryGetSymbol("kallsyms_token_index", out var tokIndexVa);
        bool haveOffsets = info.TryGetSymbol("kallsyms_offsets", out var offsetsVa);
        bool haveRelBase = info.TryGetSymbol("kallsyms_relative_base", out var relBaseVa);
        bool haveAddresses = info.TryGetSymbol("kallsyms_addresses", out var addressesVa);
        ulong? stext = expectedStext ?? (info.TryGetSymbol("_stext", out var s) ? s : null);

        Span<byte> b8 = stackalloc byte[8];
        memory.ReadKernel(numVa, b8[..4]);
        uint num = BinaryPrimitives.ReadUInt32LittleEndian(b8);
        if (num == 0 || num > MaxSymbols)
            throw Corrupt($"kallsyms_num_syms is {num} (expected 1..{MaxSymbols})", numVa);

        var tokens = ReadTokens(memory, tokTableVa, tokIndexVa);

        // raw addresses
        ulong[] raw = new ulong[num];
        ulong relBase = 0;
        if (haveOffsets)
        {
            var buf = new byte[checked((int)num * 4)];
            memory.ReadKernel(offsetsVa, buf);
            for (int i = 0; i < num; i++) raw[i] = BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(i * 4));
            if (haveRelBase) { memory.ReadKernel(relBaseVa, b8); relBase = BinaryPrimitives.ReadUInt64LittleEndian(b8); }
        }
        else
        {
            var buf = new byte[checked((int)num * 8)];
            memory.ReadKernel(addressesVa, buf);
            for (int i = 0; i < num; i++) raw[i] = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(i * 8));
        }

        // names (decoded once into a builder; addresses fixed up after the encoding is chosen)
        var names = DecodeNames(memory, namesVa, num, tokens, out var types, out var nameStarts, out var nameBytes, out int stextIndex);

        var candidates = new List<KallsymsEncoding>();
        if (!haveOffsets) candidates.Add(KallsymsEncoding.Absolute);
        else
        {
            if (haveRelBase) { candidates.Add(KallsymsEncoding.BaseRelativeAbsolutePercpu); candidates.Add(KallsymsEncoding.BaseRelative); }
            candidates.Add(KallsymsEncoding.PlaceRelative);
        }
        encoding = candidates[0];
        if (stext is { } want && stextIndex >= 0)
        {
            bool found = false;
            foreach (var c in candidates)
                if (Address(c, raw[stextIndex], stextIndex, relBase, offsetsVa) == want) { encoding = c; found = true; break; }
            if (!found)
                throw new KdumpException("KallsymsEncodingUnknown", KdumpErrorKind.InvalidData,
                    $"No kallsyms address encoding reproduces _stext = 0x{want:x}; the kallsyms tables or VMCOREINFO are inconsistent.", want);
        }

        var builder = new SymbolTableBuilder();
        ulong lo = ulong.MaxValue, hi = 0;
        for (int i = 0; i < num; i++)
        {
            ulong a = Address(encoding, raw[i], i, relBase, offsetsVa);
            builder.Add(nameBytes.AsSpan(nameStarts[i], nameStarts[i + 1] - nameStarts[i]), a, (char)types[i]);
            if (a >= 0x8000000000000000UL) { lo = Math.Min(lo, a); hi = Math.Max(hi, a); }
        }
        _ = names;
        if (lo == ulong.MaxValue) { lo = 0; hi = ulong.MaxValue - 1; }
        return builder.Build($"kallsyms in the dump ({num} symbols, {Describe(encoding)})", null, lo, hi + 1);
    }

    public static string Describe(KallsymsEncoding e) => e switch
    {
        KallsymsEncoding.Absolute => "absolute addresses",
        KallsymsEncoding.BaseRelative => "base-relative",
        KallsymsEncoding.BaseRelativeAbsolutePercpu => "base-relative, absolute per-cpu",
        _ => "place-relative",
    };

    internal static ulong Address(KallsymsEncoding e, ulong raw, int index, ulong relBase, ulong offsetsVa) => e switch
    {
        KallsymsEncoding.Absolute => raw,
        KallsymsEncoding.BaseRelative => unchecked(relBase + (uint)raw),
        KallsymsEncoding.BaseRelativeAbsolutePercpu => (int)(uint)raw >= 0 ? (uint)raw : unchecked(relBase - 1 - (ulong)(long)(int)(uint)raw),
        _ => unchecked(offsetsVa + (ulong)index * 4 + (ulong)(long)(int)(uint)raw),
    };

    private static KdumpException Corrupt(string what, ulong at) =>
        new("KallsymsCorrupt", KdumpErrorKind.InvalidData, $"The kernel's kallsyms tables are corrupt: {what} (at 0x{at:x}).", at);

    private static byte[][] ReadTokens(IKernelMemory memory, ulong tableVa, ulong indexVa)
    {
        var idxBytes = new byte[512];
        memory.ReadKernel(indexVa, idxBytes);
        var index = new int[256];
        int max = 0;
        for (int i = 0; i < 256; i++) { index[i] = BinaryPrimitives.ReadUInt16LittleEndian(idxBytes.AsSpan(i * 2)); max = Math.Max(max, index[i]); }
        // every token is short; read up to the last token's start plus a margin, tolerating a fault past the table
        int len = max + 256;
        var table = new byte[len];
        try { memory.ReadKernel(tableVa, table); }
        catch (KdumpException) { memory.ReadKernel(tableVa, table.AsSpan(0, max + 1)); }
        var tokens = new byte[256][];
        for (int i = 0; i < 256; i++)
        {
            int start = index[i];
            int end = Array.IndexOf(table, (byte)0, start);
            if (end < 0) throw Corrupt($"token {i} is not terminated", tableVa + (ulong)start);
            tokens[i] = table.AsSpan(start, end - start).ToArray();
        }
        return tokens;
    }

    private static int DecodeNames(IKernelMemory memory, ulong namesVa, uint num, byte[][] tokens,
        out byte[] types, out int[] nameStarts, out byte[] nameBytes, out int stextIndex)
    {
        types = new byte[num];
        nameStarts = new int[num + 1];
        var output = new byte[(int)Math.Min((long)num * 24, 4L << 20)];
        int used = 0;
        stextIndex = -1;
        var reader = new SequentialReader(memory, namesVa, MaxNamesBytes);
        Span<byte> scratch = stackalloc byte[4096];
        ReadOnlySpan<byte> stextName = "_stext"u8;
        for (int i = 0; i < num; i++)
        {
            int len = reader.Byte();
            if ((len & 0x80) != 0) len = (len & 0x7f) | (reader.Byte() << 7);
            if (len == 0) throw Corrupt($"symbol {i} has an empty name", namesVa + (ulong)reader.Position);
            int n = 0;
            for (int k = 0; k < len; k++)
            {
                var t = tokens[reader.Byte()];
                if (n + t.Length > scratch.Length) throw Corrupt($"symbol {i} expands past {scratch.Length} bytes", namesVa + (ulong)reader.Position);
                t.CopyTo(scratch[n..]);
                n += t.Length;
            }
            if (n < 2) throw Corrupt($"symbol {i} has no name after its type letter", namesVa + (ulong)reader.Position);
            types[i] = scratch[0];
            var name = scratch[1..n];
            if (stextIndex < 0 && name.SequenceEqual(stextName)) stextIndex = i;
            if (used + name.Length > output.Length)
            {
                long want = Math.Max((long)output.Length * 2, used + name.Length);
                if (want > MaxNamesBytes) throw Corrupt("decoded names exceed the size limit", namesVa);
                Array.Resize(ref output, (int)want);
            }
            name.CopyTo(output.AsSpan(used));
            nameStarts[i] = used;
            used += name.Length;
        }
        nameStarts[num] = used;
        nameBytes = output;
        return used;
    }

    /// <summary>Reads a byte stream from kernel memory in 64 KiB chunks.</summary>
    private sealed class SequentialReader
    {
        private readonly IKernelMemory _mem;
        private readonly ulong _base;
        private readonly long _limit;
        private readonly byte[] _buf = new byte[1 << 16];
        private long _bufStart = -1;
        private int _bufLen;
        public long Position { get; private set; }

        public SequentialReader(IKernelMemory mem, ulong va, long limit) { _mem = mem; _base = va; _limit = limit; }

        public int Byte()
        {
            if (_bufStart < 0 || Position >= _bufStart + _bufLen)
            {
                if (Position >= _limit) throw Corrupt("the names table runs past the size limit", _base + (ulong)Position);
                _bufStart = Position;
                _bufLen = _buf.Length;
                // shrink the chunk at a page boundary fault: read page by page if the whole chunk fails
                try { _mem.ReadKernel(_base + (ulong)Position, _buf); }
                catch (KdumpException)
                {
                    ulong a = _base + (ulong)Position;
                    int toPage = (int)(4096 - (a & 4095));
                    _bufLen = toPage;
                    _mem.ReadKernel(a, _buf.AsSpan(0, toPage));
                }
            }
            return _buf[(int)(Position++ - _bufStart)];
        }
    }
}
