BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Commands = @(Get-Command -Module Kdump -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Module help' {
    It 'exports at least one cmdlet' {
        (Get-Command -Module Kdump -CommandType Cmdlet).Count | Should -BeGreaterThan 0
    }

    Context '<Name>' -ForEach $Commands {
        BeforeAll {
            $script:Help = Get-Help $Name -Full
            $script:Cmd = Get-Command $Name
        }
        It 'has a synopsis' {
            $Help.Synopsis | Should -Not -BeNullOrEmpty
            $Help.Synopsis | Should -Not -BeLike "*$Name*[<]*"   # not the auto-generated syntax
        }
        It 'has a description' {
            ($Help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        }
        It 'has at least one example with code and remarks' {
            @($Help.Examples.Example).Count | Should -BeGreaterThan 0
            foreach ($e in $Help.Examples.Example) {
                $e.Code | Should -Not -BeNullOrEmpty
                ($e.Remarks | Out-String).Trim() | Should -Not -BeNullOrEmpty
            }
        }
        It 'documents every parameter of the code, with text' {
            $codeParams = @($Cmd.Parameters.Keys | Where-Object { $_ -notin $Common }) | Sort-Object
            $helpParams = @($Help.Parameters.Parameter | Where-Object { $_ } | ForEach-Object Name) | Sort-Object
            $helpParams | Should -Be $codeParams
            foreach ($p in $Help.Parameters.Parameter) {
                ($p.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "parameter -$($p.Name) needs text"
            }
        }
    }
}
