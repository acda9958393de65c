using System.Globalization;
using System.Text;

namespace Kdump.Engine.Symbols;

/// <summary>
/// A System.map ("ffffffff81000000 T _text" per line) as a symbol finder. Link-time addresses are shifted by the
/// dump's KASLR offset (KERNELOFFSET) when they lie in the kernel image mapping (≥ <c>relocateFrom</c>).
/// </summary>
public static class SystemMap
{
    public const long MaxFileBytes = 256L << 20;

    public static SymbolTable Load(string path, ulong kaslrOffset, ulong relocateFrom = 0xffffffff80000000UL)
    {
        var fi = new FileInfo(path);
        if (!fi.Exists) throw new KdumpException("SystemMapNotFound", KdumpErrorKind.NotFound, $"System.map '{path}' does not exist.", path);
        if (fi.Length > MaxFileBytes) throw new KdumpException("SystemMapTooLarge", KdumpErrorKind.LimitExceeded, $"'{path}' is {fi.Length} bytes; a System.map is at most {MaxFileBytes}.", path);
        using var r = new StreamReader(path, Encoding.UTF8);
        return Load(r, kaslrOffset, $"System.map {path}", relocateFrom);
    }

    public static SymbolTable Load(TextReader reader, ulong kaslrOffset, string source, ulong relocateFrom = 0xffffffff80000000UL)
    {
        var b = new SymbolTableBuilder();
        ulong lo = ulong.MaxValue, hi = 0;
        int lineNo = 0, bad = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            var span = line.AsSpan().Trim();
            if (span.IsEmpty) continue;
            int s1 = span.IndexOf(' ');
            if (s1 <= 0 || s1 + 2 >= span.Length || span[s1 + 2] != ' ' ||
                !ulong.TryParse(span[..s1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var addr))
            {
                if (++bad > 16 && bad * 2 > lineNo)
                    throw new KdumpException("SystemMapInvalid", KdumpErrorKind.InvalidData, $"{source} is not a System.map (line {lineNo}: '{Truncate(line)}').", source);
                continue;
            }
            char type = span[s1 + 1];
            var name = span[(s1 + 3)..].Trim();
            int tab = name.IndexOf('\t'); // module symbols in /proc/kallsyms style: "name\t[mod]"
            if (tab >= 0) name = name[..tab];
            if (name.IsEmpty) continue;
            if (addr >= relocateFrom && type is not ('A' or 'a')) addr = unchecked(addr + kaslrOffset);
            b.Add(Encoding.UTF8.GetBytes(name.ToString()), addr, type);
            if (addr >= 0x8000000000000000UL) { lo = Math.Min(lo, addr); hi = Math.Max(hi, addr); }
        }
        if (b.Count == 0) throw new KdumpException("SystemMapInvalid", KdumpErrorKind.InvalidData, $"{source} holds no symbols.", source);
        if (lo == ulong.MaxValue) { lo = 0; hi = ulong.MaxValue - 1; }
        return b.Build(source, null, lo, hi + 1);
    }

    private static string Truncate(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
