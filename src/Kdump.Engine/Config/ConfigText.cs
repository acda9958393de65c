using System.Text;

namespace Kdump.Engine.Config;

/// <summary>
/// A configuration file held as its exact lines and line endings, so an edit changes only the lines it touches.
/// Lines are kept as "raw" strings (one char per byte, Latin-1), which round-trips any byte sequence; values shown to
/// the user are decoded as UTF-8 via <see cref="Decode"/>.
/// </summary>
internal sealed class ConfigText
{
    public const int MaxBytes = 1 << 20;       // a config file larger than 1 MiB is not a config file
    public const int MaxLines = 50_000;

    private static readonly Encoding Raw = Encoding.Latin1;

    /// <summary>The file as the host sees it (e.g. /etc/kdump.conf).</summary>
    public string SystemPath { get; }
    /// <summary>The file on disk (under -Root), as named (links not followed).</summary>
    public string FullPath { get; }
    /// <summary>The file really read and written: every symbolic link resolved inside the root.</summary>
    public string RealPath { get; private init; }
    public List<string> Lines { get; }
    public List<string> Eols { get; }
    public bool Modified { get; private set; }

    private ConfigText(string systemPath, string fullPath, List<string> lines, List<string> eols)
    {
        SystemPath = systemPath; FullPath = fullPath; RealPath = fullPath; Lines = lines; Eols = eols;
    }

    public static ConfigText FromBytes(string systemPath, string fullPath, ReadOnlySpan<byte> bytes, string? realPath = null)
    {
        if (bytes.Length > MaxBytes)
            throw new KdumpException("ConfigFileTooLarge", KdumpErrorKind.LimitExceeded,
                $"{fullPath} is {bytes.Length} bytes; configuration files over {MaxBytes} bytes are not read.", fullPath);
        string s = Raw.GetString(bytes);
        var lines = new List<string>();
        var eols = new List<string>();
        int start = 0;
        while (start < s.Length)
        {
            int nl = s.IndexOf('\n', start);
            if (nl < 0) { lines.Add(s[start..]); eols.Add(""); break; }
            bool cr = nl > start && s[nl - 1] == '\r';
            lines.Add(s[start..(cr ? nl - 1 : nl)]);
            eols.Add(cr ? "\r\n" : "\n");
            start = nl + 1;
            if (lines.Count > MaxLines)
                throw new KdumpException("ConfigFileTooLarge", KdumpErrorKind.LimitExceeded,
                    $"{fullPath} has more than {MaxLines} lines.", fullPath);
        }
        return new ConfigText(systemPath, fullPath, lines, eols) { RealPath = realPath ?? fullPath };
    }

    public static ConfigText Load(string systemPath, string fullPath, string realPath)
    {
        using var fs = new FileStream(realPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (fs.Length > MaxBytes)
            throw new KdumpException("ConfigFileTooLarge", KdumpErrorKind.LimitExceeded,
                $"{fullPath} is {fs.Length} bytes; configuration files over {MaxBytes} bytes are not read.", fullPath);
        var buf = new byte[fs.Length];
        int n = 0;
        while (n < buf.Length)
        {
            int r = fs.Read(buf, n, buf.Length - n);
            if (r == 0) break;
            n += r;
        }
        return FromBytes(systemPath, fullPath, buf.AsSpan(0, n), realPath);
    }

    public ConfigText Clone() => new(SystemPath, FullPath, new List<string>(Lines), new List<string>(Eols)) { Modified = Modified, RealPath = RealPath };

    public byte[] ToBytes()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Lines.Count; i++) sb.Append(Lines[i]).Append(Eols[i]);
        return Raw.GetBytes(sb.ToString());
    }

    /// <summary>The line ending most used in the file ("\n" when there is none).</summary>
    public string DominantEol => Eols.Count(e => e == "\r\n") > Eols.Count(e => e == "\n") ? "\r\n" : "\n";

    public void SetLine(int index, string raw)
    {
        if (Lines[index] == raw) return;
        Lines[index] = raw;
        Modified = true;
    }

    /// <summary>Inserts a raw line at <paramref name="index"/> (Count appends); returns its index.</summary>
    public int InsertLine(int index, string raw)
    {
        string eol = DominantEol;
        if (index == Lines.Count && Lines.Count > 0 && Eols[^1] == "") Eols[^1] = eol;
        Lines.Insert(index, raw);
        Eols.Insert(index, eol);
        Modified = true;
        return index;
    }

    /// <summary>Raw (byte-per-char) text to the user's text.</summary>
    public static string Decode(string raw)
    {
        foreach (char c in raw) if (c > 0x7f) return Encoding.UTF8.GetString(Raw.GetBytes(raw));
        return raw;
    }

    /// <summary>The user's text to raw (byte-per-char) text, as UTF-8.</summary>
    public static string Encode(string text)
    {
        foreach (char c in text) if (c > 0x7f) return Raw.GetString(Encoding.UTF8.GetBytes(text));
        return text;
    }
}
